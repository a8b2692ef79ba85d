"""User-facing errors: one hierarchy, each carrying what its message needs.

The CLI turns any `KpiError` into a one-paragraph message on stderr and exit code 2;
anything else is a bug in this tool and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is, as the user would look for it."""

    path: str | None = None
    line: int | None = None  # CSV line (header = 1) or Parquet row index
    column: str | None = None
    value: object = None
    line_label: str = "line"  # "line" for CSV and YAML, "row index" for Parquet

    def describe(self) -> str:
        parts = []
        if self.path:
            parts.append(str(self.path))
        if self.line is not None:
            parts.append(f"{self.line_label} {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ", ".join(parts)


class KpiError(Exception):
    """A problem with the user's input, targets file or command line (exit code 2)."""

    exit_code = 2

    def __init__(self, what: str, *, where: Location | None = None, hint: str | None = None):
        self.what = what
        self.where = where or Location()
        self.hint = hint
        super().__init__(self.message())

    def message(self) -> str:
        text = self.what.rstrip(".") + "."
        where = self.where.describe()
        if where:
            text = f"{where}: {text}"
        if self.hint:
            hint = self.hint.rstrip(".")
            text += " " + hint + ("" if hint.endswith("?") else ".")
        return text


class InputFileError(KpiError):
    """The export cannot be read as a whole: missing, empty, corrupt, wrong columns."""


class InvalidDataError(KpiError):
    """The export was read but some rows break the data contract."""

    def __init__(self, report, *, hint: str | None = None):
        self.report = report
        super().__init__(
            f"{report.invalid_rows:,} of {report.rows_read:,} rows break the data contract",
            where=Location(path=report.path),
            hint=hint,
        )


class TargetsError(KpiError):
    """targets.yaml (or the file given with --targets) is not valid."""


class MappingError(KpiError):
    """A column-mapping file is not valid or does not fit the export."""


class UsageError(KpiError):
    """Options that cannot work together, or a value the command cannot use."""


class OutputError(KpiError):
    """A report cannot be written where the user asked."""
