"""covidbank-kpi: check a bank's COVID-19 programme targets against its branch-month exports.

Kept free of heavy imports, so that `kpi --help` starts at once.
"""

__version__ = "0.1.0"
