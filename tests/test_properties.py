"""Properties of validation over generated exports.

1. Corrupt random cells of a valid export: every corrupted row is rejected (its line is in
   `_line`), every untouched row is kept, with its values, and no row is lost.
2. The vectorised verdict on each row equals row-by-row `schema.BranchMonth.model_validate` on
   the same raw cells, which pins validate.py to the Pydantic model. Branch ids are unique here,
   since duplicate keys are a cross-row rule the model cannot see; counts stay below 10^15
   (the vectorised `too-large` rule has no counterpart in the model).
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covidbank_kpi.io import read_export
from covidbank_kpi.schema import CONTRACT_COLUMNS, MEASURES, PAIRS, BranchMonth
from covidbank_kpi.validate import validate

SINGLES = [m for m in MEASURES if m not in {c for p in PAIRS for c in (p.part, p.whole)}]
HEADER = list(CONTRACT_COLUMNS)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(lines: list[str | None]):
    """Write the header and `lines` (None = an empty line) as a CSV, read and validate it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in lines:
        if row is None:
            buffer.write("\n")
        else:
            writer.writerow([row[c] for c in HEADER])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        return validate(read_export(path))


# --- 1. corrupted rows are reported, untouched rows are kept ------------------------------

count = st.integers(min_value=0, max_value=10**6)


@st.composite
def valid_row_cells(draw, period: str, branch: str) -> dict[str, str]:
    row = {"period": period, "branch_id": branch, "branch_name": draw(st.sampled_from(["", "朝阳支行", "Head office"])),
           "region": draw(st.sampled_from(["", "华北", "华东"]))}
    for pair in PAIRS:
        if draw(st.booleans()) and draw(st.booleans()):  # about a quarter of the pairs not reported
            row[pair.part] = row[pair.whole] = ""
        else:
            whole = draw(count)
            part = draw(st.integers(min_value=0, max_value=whole))
            row[pair.whole] = draw(st.sampled_from([str(whole), f"{whole}.0"]))
            row[pair.part] = str(part)
    for name in SINGLES:
        row[name] = draw(st.one_of(st.just(""), count.map(str)))
    return row


@st.composite
def valid_export(draw) -> list[dict[str, str]]:
    branches = draw(st.lists(st.from_regex(r"[0-9]{4}", fullmatch=True), min_size=1, max_size=4, unique=True))
    months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
    return [draw(valid_row_cells(f"2020-{m:02d}", b)) for m in sorted(months) for b in branches]


CORRUPTIONS = ["negative", "fractional", "text", "part-exceeds-whole", "half-pair", "bad-period",
               "blank-branch-id", "duplicate"]


def corrupt(row: dict[str, str], kind: str, draw) -> None:
    """Break one rule in `row`, in place (all kinds but 'duplicate', which works across rows)."""
    measure = draw(st.sampled_from(list(MEASURES)))
    if kind == "negative":
        row[measure] = str(-draw(st.integers(1, 1000)))
    elif kind == "fractional":
        row[measure] = f"{draw(st.integers(0, 1000))}.{draw(st.integers(1, 9))}"
    elif kind == "text":
        row[measure] = draw(st.sampled_from(["abc", "n/a", "1e3", "十二", "12 3", "--"]))
    elif kind == "part-exceeds-whole":
        pair = draw(st.sampled_from(PAIRS))
        whole = draw(st.integers(0, 1000))
        row[pair.whole], row[pair.part] = str(whole), str(whole + draw(st.integers(1, 50)))
    elif kind == "half-pair":
        pair = draw(st.sampled_from(PAIRS))
        if row[pair.part] == "":
            row[pair.whole] = str(draw(st.integers(0, 1000)))
        else:
            row[draw(st.sampled_from([pair.part, pair.whole]))] = ""
    elif kind == "bad-period":
        row["period"] = draw(st.sampled_from(["2020-13", "March", "2020-02-30", "2020/03", "20-03", "2020-00"]))
    elif kind == "blank-branch-id":
        row["branch_id"] = draw(st.sampled_from(["", " "]))


@given(st.data())
@SETTINGS
def test_every_corrupted_row_is_reported_and_every_other_row_kept(data):
    rows = [dict(r) for r in data.draw(valid_export())]
    n = len(rows)
    picks = data.draw(st.lists(st.integers(0, n - 1), max_size=min(n, 5), unique=True))
    corrupted: set[int] = set()
    duplicates: list[int] = []
    for i in picks:
        kind = data.draw(st.sampled_from(CORRUPTIONS))
        if kind == "duplicate":
            duplicates.append(i)
        else:
            corrupt(rows[i], kind, data.draw)
        corrupted.add(i)
    for i in duplicates:  # after the cell corruptions: the copy is the row as it now stands
        rows.append(dict(rows[i]))
        corrupted.add(len(rows) - 1)

    # optional empty lines between rows; work out each row's line by hand (header = line 1)
    gaps = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    lines: list[dict[str, str] | None] = []
    line_of: list[int] = []
    line = 1
    for row, gap in zip(rows, gaps):
        if gap:
            lines.append(None)
            line += 1
        lines.append(row)
        line += 1
        line_of.append(line)

    validated = run(lines)
    rejected_lines = set(validated.rejected.column("_line").to_pylist())
    assert {line_of[i] for i in corrupted} <= rejected_lines
    kept = [i for i in range(len(rows)) if i not in corrupted]
    assert rejected_lines.isdisjoint({line_of[i] for i in kept})
    assert validated.report.rows_read == len(rows)
    assert len(validated.frame) == len(kept)
    assert validated.rejected.num_rows == len(corrupted)
    frame = validated.frame
    assert frame["branch_id"].tolist() == [rows[i]["branch_id"] for i in kept]
    assert frame["period"].tolist() == [rows[i]["period"] for i in kept]
    for name in MEASURES:
        expected = [None if rows[i][name] == "" else int(float(rows[i][name])) for i in kept]
        assert [None if pd.isna(v) else int(v) for v in frame[name].tolist()] == expected, name


# --- 2. the vectorised rules agree with the Pydantic model --------------------------------

odd_cell = st.sampled_from(["", " ", "0", "12", "12.0", "12.", " 7 ", "+3", "-0", "0012", "12.5", "-1", "-7.0",
                           "abc", "1e3", "0x10", ".5", "NaN", "inf", "1 000", "999999999999999"])
# mostly plain counts or blanks, so that many rows are valid but for the one odd cell
measure_cell = st.integers(0, 11).flatmap(
    lambda k: odd_cell if k == 0 else st.just("") if k == 1 else st.integers(0, 10**6).map(str))
good_period = st.sampled_from(["2020-01", "2020-12", " 2020-03 ", "2020-03-15", "2020-02-29", "2022-12-31"])
bad_period = st.sampled_from(["2021-02-29", "2020-02-30", "2020-04-31", "2020-13", "2020-00", "March", "", " ",
                              "2020/03", "202003", "2020-3", "2020-03-15 10:00", "2020-03-1"])
period_cell = st.one_of(good_period, bad_period)


@st.composite
def raw_rows(draw) -> list[dict[str, str]]:
    n = draw(st.integers(1, 8))
    rows = []
    for i in range(n):
        row = {"period": draw(period_cell),
               "branch_id": draw(st.sampled_from(["", " ", f"{i:04d}", f" B{i} ", f"{i:04d}", f"{i}"])),
               "branch_name": draw(st.sampled_from(["", "朝阳支行"])), "region": ""}
        for pair in PAIRS:
            if draw(st.integers(0, 5)) > 0:  # mostly a coherent pair (both blank, or part <= whole)
                if draw(st.integers(0, 3)) == 0:
                    row[pair.whole] = row[pair.part] = ""
                    continue
                whole = draw(st.integers(0, 100))
                row[pair.whole], row[pair.part] = str(whole), str(draw(st.integers(0, whole)))
            else:
                row[pair.part], row[pair.whole] = draw(measure_cell), draw(measure_cell)
        for name in SINGLES:
            row[name] = draw(measure_cell)
        rows.append(row)
    return rows


def model_says_valid(row: dict[str, str]) -> bool:
    try:
        BranchMonth.model_validate(row)
    except pydantic.ValidationError:
        return False
    return True


@given(raw_rows())
@SETTINGS
def test_vectorised_verdict_equals_the_pydantic_model(rows):
    validated = run(rows)
    rejected = set(validated.rejected.column("_line").to_pylist())
    vectorised = [i + 2 not in rejected for i in range(len(rows))]
    reference = [model_says_valid(row) for row in rows]
    assert vectorised == reference, [(i + 2, rows[i]) for i in range(len(rows)) if vectorised[i] != reference[i]]
    assert len(validated.frame) == sum(reference)
    assert len(validated.frame) + validated.rejected.num_rows == len(rows)
