"""Small, readable fixtures: an export is a list of dicts naming only the cells that matter."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from covidbank_kpi.cli import app
from covidbank_kpi.schema import CONTRACT_COLUMNS, REQUIRED_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def kpi(*args: object):
    """Run the command line in-process, as a user would type it: whatever happens, no traceback."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def padded(text: str) -> str:
    """Add the required columns the CSV text leaves out, blank, at the end of every non-empty line."""
    lines = text.split("\n")
    header = lines[0].split(",")
    rest = [c for c in REQUIRED_COLUMNS if c not in header]
    out = [",".join(header + rest)]
    out += [line + "," * len(rest) if line.strip() else line for line in lines[1:]]
    return "\n".join(out)


def write_export(path: Path, rows: list[dict], *, encoding: str = "utf-8", columns=CONTRACT_COLUMNS) -> Path:
    """Write rows as a CSV with every contract column; cells not given are blank."""
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


@pytest.fixture
def export(tmp_path):
    """export(rows) -> path of a CSV holding them."""
    counter = iter(range(1000))

    def make(rows: list[dict], name: str | None = None, **kwargs) -> Path:
        return write_export(tmp_path / (name or f"export{next(counter)}.csv"), rows, **kwargs)

    return make


ONE_TARGET = """
version: 1
window: {{start: 2020-01, end: 2022-12}}
targets:
  - id: online_txn_share
    section: 二.1
    name: {{zh: 在线交易比例, en: Online transaction share}}
    measure: {{zh: 加強在線服務能力, en: Online service}}
    quote: 爭取在疫情期間達到70%以上。
    metric: {{ratio: {{part: txn_online, whole: txn_total}}}}
    test: {{comparator: "{comparator}", threshold: {threshold}}}
    unit: {{zh: 笔线上交易, en: online transactions}}
    {extra}
    levels: [bank, region, branch]
    owner: {{department: {{zh: 科技部, en: Technology}}}}
"""


@pytest.fixture
def one_target(tmp_path):
    """one_target(threshold=0.7, comparator='>=', extra='') -> path of a targets file with online_txn_share only."""

    def make(threshold="0.70", comparator=">=", extra="") -> Path:
        path = tmp_path / "targets.yaml"
        path.write_text(ONE_TARGET.format(threshold=threshold, comparator=comparator, extra=extra), encoding="utf-8")
        return path

    return make
