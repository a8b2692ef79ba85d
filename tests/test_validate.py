"""Row rules of the data contract: each one reported precisely, and no row ever lost.

A CSV fixture is written inline with only the columns that matter; `write_csv` adds the other
required contract columns as blank cells at the end of each line, so line numbers in the
assertions are those of the text in the test (header = line 1).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from covidbank_kpi.io import read_export
from covidbank_kpi.schema import CONTRACT_COLUMNS, REQUIRED_COLUMNS
from covidbank_kpi.validate import RULES, WARNINGS, validate

from .conftest import kpi, padded


def write_csv(path: Path, text: str) -> Path:
    path.write_bytes(padded(text).encode("utf-8"))
    return path


def check(path: Path, **options):
    return validate(read_export(path), **options)


def problems(validated) -> list[tuple]:
    return [(p.rule, p.column, p.count, [(e.line, e.value) for e in p.examples]) for p in validated.report.problems]


def contract_table(**columns) -> pa.Table:
    n = len(next(iter(columns.values())))
    data = {c: columns.get(c, pa.nulls(n, pa.string())) for c in REQUIRED_COLUMNS}
    data.update(columns)
    return pa.table(data)


# --- one fixture per rule -----------------------------------------------------------------

RULE_CASES = {
    "period-missing": (
        "period,branch_id\n"
        "2020-01,0001\n"
        ",0002\n"
        "  ,0003\n",
        [("period-missing", "period", 2, [(3, "(blank)"), (4, "  ")])],
    ),
    "period-format": (
        "period,branch_id\n"
        "2020-13,0001\n"
        "2020-01,0002\n"
        "March,0003\n"
        "2020-02-30,0004\n"
        "202001,0005\n",
        [("period-format", "period", 4, [(2, "2020-13"), (4, "March"), (5, "2020-02-30"), (6, "202001")])],
    ),
    "branch-id-missing": (
        "period,branch_id\n"
        "2020-01,\n"
        "2020-01,0002\n"
        "2020-01,   \n",
        [("branch-id-missing", "branch_id", 2, [(2, "(blank)"), (4, "   ")])],
    ),
    "not-whole-number": (
        "period,branch_id,literacy_events_online\n"
        "2020-01,0001,12.5\n"
        "2020-01,0002,abc\n"
        "2020-01,0003,12.0\n"
        "2020-01,0004,1e3\n",
        [("not-whole-number", "literacy_events_online", 3, [(2, "12.5"), (3, "abc"), (5, "1e3")])],
    ),
    "negative": (
        "period,branch_id,literacy_participants\n"
        "2020-01,0001,0\n"
        "2020-01,0002,-1\n"
        "2020-01,0003,-7.0\n",
        [("negative", "literacy_participants", 2, [(3, "-1"), (4, "-7.0")])],
    ),
    "too-large": (
        "period,branch_id,literacy_participants\n"
        "2020-01,0001,999999999999999\n"
        "2020-01,0002,1000000000000000\n",
        [("too-large", "literacy_participants", 1, [(3, "1000000000000000")])],
    ),
    "pair-incomplete": (
        "period,branch_id,txn_online,txn_total\n"
        "2020-01,0001,5,\n"
        "2020-01,0002,,\n"
        "2020-01,0003,,10\n"
        "2020-01,0004,5,10\n",
        [("pair-incomplete", "txn_online/txn_total", 2, [(2, "5 / (blank)"), (4, "(blank) / 10")])],
    ),
    "part-exceeds-whole": (
        "period,branch_id,staff_trained,staff_total\n"
        "2020-01,0001,10,10\n"
        "2020-01,0002,11,10\n"
        "2020-01,0003,0,0\n",
        [("part-exceeds-whole", "staff_trained/staff_total", 1, [(3, "11 / 10")])],
    ),
    "duplicate-key": (
        "period,branch_id\n"
        "2020-01,0001\n"
        "2020-01,0002\n"
        "2020-01-31,0001\n"
        "2020-02,0001\n",
        [("duplicate-key", "period/branch_id", 2, [(2, "2020-01 / 0001"), (4, "2020-01-31 / 0001")])],
    ),
}


def test_every_rule_has_a_case():
    assert sorted(RULE_CASES) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_is_reported_precisely(tmp_path, rule):
    text, expected = RULE_CASES[rule]
    path = write_csv(tmp_path / "monthly.csv", text)
    validated = check(path)
    assert problems(validated) == expected
    bad_rows = expected[0][2]
    assert validated.report.invalid_rows == bad_rows
    assert validated.report.rows_read == text.count("\n") - 1
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert f"✗ {rule} in {expected[0][1]}: {bad_rows} row(s)" in result.stdout
    for line, value in expected[0][3]:
        assert f"line {line}: {value!r}" in result.stdout


def test_a_row_breaking_several_rules_lists_them_all(tmp_path):
    path = write_csv(tmp_path / "monthly.csv",
                     "period,branch_id,txn_online,txn_total,staff_trained,staff_total\n"
                     "2020-13,0001,-1,-1,9,8\n"
                     "2020-01,0002,1,2,3,4\n")
    validated = check(path)
    assert problems(validated) == [
        ("period-format", "period", 1, [(2, "2020-13")]),
        ("negative", "txn_online", 1, [(2, "-1")]),
        ("negative", "txn_total", 1, [(2, "-1")]),
        ("part-exceeds-whole", "staff_trained/staff_total", 1, [(2, "9 / 8")]),
    ]
    assert validated.report.invalid_rows == 1
    assert validated.rejected.column("_rules").to_pylist() == [
        "period-format(period); negative(txn_online); negative(txn_total); "
        "part-exceeds-whole(staff_trained/staff_total)"]


def test_examples_are_capped_at_five(tmp_path):
    rows = "".join(f"2020-01,{i:04d},x\n" for i in range(7))
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id,literacy_participants\n" + rows)
    validated = check(path)
    (problem,) = validated.report.problems
    assert problem.count == 7
    assert [e.line for e in problem.examples] == [2, 3, 4, 5, 6]
    assert "… and 2 more" in kpi("validate", path).stdout


# --- whole numbers and periods ------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), [
    ("12", 12), ("12.0", 12), ("12.", 12), (" 12 ", 12), ("+12", 12), ("0012", 12), ("0", 0), ("-0", 0),
    ("12.5", "not-whole-number"), ("-1", "negative"), ("abc", "not-whole-number"), ("1e3", "not-whole-number"),
    ("1,000", "not-whole-number"), ("0x10", "not-whole-number"), ("12.01", "not-whole-number"),
    ("", None),
])
def test_whole_number_cells(tmp_path, cell, expected):
    path = write_csv(tmp_path / "monthly.csv", f'period,branch_id,literacy_participants\n2020-01,0001,"{cell}"\n')
    validated = check(path)
    if isinstance(expected, str):
        assert [p.rule for p in validated.report.problems] == [expected]
        assert validated.report.problems[0].examples[0].value == cell
        assert validated.frame.empty
    else:
        assert validated.report.problems == ()
        value = validated.frame["literacy_participants"].iloc[0]
        assert (value is pd.NA) if expected is None else value == expected


@pytest.mark.parametrize(("cell", "month"), [
    ("2020-03", "2020-03"), ("2020-03-15", "2020-03"), (" 2020-12 ", "2020-12"), ("2020-02-29", "2020-02"),
    ("2020-13", None), ("March", None), ("2020-02-30", None), ("2021-02-29", None), ("2020-3", None),
    ("2020/03", None), ("2020-03-15 10:00:00", None), ("20-03", None), ("2020-00", None),
])
def test_period_cells(tmp_path, cell, month):
    path = write_csv(tmp_path / "monthly.csv", f"period,branch_id\n{cell},0001\n")
    validated = check(path)
    if month is None:
        assert problems(validated) == [("period-format", "period", 1, [(2, cell)])]
    else:
        assert validated.report.problems == ()
        assert validated.frame["period"].tolist() == [month]


@pytest.mark.parametrize("period", [
    pa.array([dt.date(2020, 3, 15), dt.date(2020, 4, 1), None], pa.date32()),
    pa.array([dt.datetime(2020, 3, 15, 23, 59), dt.datetime(2020, 4, 1), None], pa.timestamp("ms")),
    pa.array([dt.datetime(2020, 3, 15), dt.datetime(2020, 4, 1), None], pa.timestamp("us", tz="Asia/Shanghai")),
], ids=["date32", "timestamp", "timestamp-tz"])
def test_parquet_date_and_timestamp_periods(tmp_path, period):
    path = tmp_path / "monthly.parquet"
    pq.write_table(contract_table(period=period, branch_id=pa.array(["0001", "0001", "0002"])), path)
    validated = check(path)
    assert validated.frame["period"].tolist() == ["2020-03", "2020-04"]
    assert problems(validated) == [("period-missing", "period", 1, [(2, "(blank)")])]
    assert validated.report.line_label == "row index"
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert "row index 2: '(blank)'" in result.stdout


def test_parquet_float_measures(tmp_path):
    path = tmp_path / "monthly.parquet"
    pq.write_table(contract_table(
        period=pa.array(["2020-01", "2020-01", "2020-01", "2020-01"]),
        branch_id=pa.array(["0001", "0002", "0003", "0004"]),
        txn_online=pa.array([12.0, 12.5, None, float("nan")]),
        txn_total=pa.array([20.0, 20.0, None, None]),
    ), path)
    validated = check(path)
    assert problems(validated) == [("not-whole-number", "txn_online", 1, [(1, "12.5")])]
    assert validated.frame["branch_id"].tolist() == ["0001", "0003", "0004"]
    assert validated.frame["txn_online"].tolist()[0] == 12
    assert validated.frame["txn_online"].isna().tolist() == [False, True, True]  # NaN is null, not 0


def test_parquet_integer_measures(tmp_path):
    path = tmp_path / "monthly.parquet"
    pq.write_table(contract_table(
        period=pa.array(["2020-01"] * 4),
        branch_id=pa.array(["0001", "0002", "0003", "0004"]),
        txn_online=pa.array([5, None, None, None], pa.int32()),
        literacy_participants=pa.array([1, 2, 2**64 - 1, 3], pa.uint64()),
        literacy_events_online=pa.array([0, -3, 10**16, None], pa.int64()),
    ), path)
    validated = check(path)
    assert problems(validated) == [
        ("pair-incomplete", "txn_online/txn_total", 1, [(0, "5 / (blank)")]),
        ("negative", "literacy_events_online", 1, [(1, "-3")]),
        ("too-large", "literacy_events_online", 1, [(2, "10000000000000000")]),
        ("too-large", "literacy_participants", 1, [(2, "18446744073709551615")]),
    ]
    assert validated.report.invalid_rows == 3
    assert validated.frame["branch_id"].tolist() == ["0004"]
    assert validated.frame["literacy_participants"].tolist() == [3]


def test_parquet_integer_branch_id_warns(tmp_path):
    path = tmp_path / "monthly.parquet"
    pq.write_table(contract_table(period=pa.array(["2020-01", "2020-01"]), branch_id=pa.array([12, 7], pa.int64())),
                   path)
    validated = check(path)
    assert validated.report.ok
    assert [w.rule for w in validated.report.warnings] == ["branch-id-not-text"]
    assert validated.frame["branch_id"].tolist() == ["12", "7"]
    result = kpi("validate", path)
    assert result.exit_code == 0
    assert "! branch-id-not-text: branch_id is stored as a number" in result.stdout


# --- exit codes and the JSON report -------------------------------------------------------

CLEAN = (
    "period,branch_id,region,txn_online,txn_total\n"
    "2020-01,0001,华北,60,100\n"
    "2020-01,0002,华东,30,40\n"
)


def test_clean_file_exits_0(tmp_path):
    result = kpi("validate", write_csv(tmp_path / "monthly.csv", CLEAN))
    assert result.exit_code == 0
    assert "2 rows read, 2 valid, 0 invalid" in result.stdout
    assert "The file meets the data contract." in result.stdout


def test_one_bad_row_exits_2(tmp_path):
    result = kpi("validate", write_csv(tmp_path / "monthly.csv", CLEAN + "2020-01,0003,华南,5,x\n"))
    assert result.exit_code == 2
    assert "3 rows read, 2 valid, 1 invalid" in result.stdout


def test_json_report_shape(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", CLEAN + "2020-01,0003,华南,50,40\n\n2020-02,0001,华北,1,2\n")
    result = kpi("validate", path, "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert sorted(report) == ["input", "line_numbering", "notes", "problems", "rows_invalid", "rows_read",
                              "rows_valid", "schema_version", "valid", "warnings"]
    assert report["schema_version"] == 1
    assert report["input"] == str(path)
    assert report["valid"] is False
    assert (report["rows_read"], report["rows_valid"], report["rows_invalid"]) == (4, 3, 1)
    assert report["line_numbering"] == "line"
    assert report["problems"] == [{
        "rule": "part-exceeds-whole", "column": "txn_online/txn_total", "rows": 1,
        "description": "the part is larger than its whole", "examples": [{"line": 4, "value": "50 / 40"}],
    }]
    assert report["warnings"] == [{
        "rule": "branch-missing-months",
        "message": "1 branch(es) reported in some months of the file but not in others",
        "items": ["0002: missing 2020-02"], "error": False,
    }]
    assert report["notes"] == ["1 empty line(s) in the file were not rows and were left out"]


# --- nothing is lost ----------------------------------------------------------------------

MIXED = (
    "period,branch_id,branch_name,txn_online,txn_total,extra_note\n"
    "2020-01,0012,朝阳,60,100,a\n"
    "2020-01,0002,海淀, 12.5 ,40,b\n"
    "\n"
    "2020-01,0003,,30,40,c\n"
    "2020-13,0004,和平,,,d\n"
    "2020-01,0005,浦东,,40,\n"
)


def test_every_row_is_valid_or_rejected(tmp_path):
    validated = check(write_csv(tmp_path / "monthly.csv", MIXED))
    report = validated.report
    assert report.rows_read == 5  # the empty line is not a row
    assert report.valid_rows == 2 and report.invalid_rows == 3
    assert len(validated.frame) + validated.rejected.num_rows == report.rows_read
    assert validated.frame["branch_id"].tolist() == ["0012", "0003"]
    assert validated.rejected.column("branch_id").to_pylist() == ["0002", "0004", "0005"]
    assert validated.rejected.column("_line").to_pylist() == [3, 6, 7]
    assert validated.rejected.column("_rules").to_pylist() == [
        "not-whole-number(txn_online)", "period-format(period)", "pair-incomplete(txn_online/txn_total)"]
    assert report.notes == ("1 empty line(s) in the file were not rows and were left out",)
    assert [w.rule for w in report.warnings] == ["extra-columns"]
    assert report.warnings[0].items == ("extra_note",)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rejects_file_holds_the_rejected_rows_untouched(tmp_path, suffix):
    path = write_csv(tmp_path / "monthly.csv", MIXED)
    rejects = tmp_path / f"rejects{suffix}"
    result = kpi("evaluate", path, "--skip-invalid", "--rejects", rejects, "--format", "json")
    assert result.exit_code in (0, 1)
    if suffix == ".parquet":
        table = pq.read_table(rejects)
    else:
        table = pacsv.read_csv(rejects, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in padded(MIXED).split("\n")[0].split(",")},
            strings_can_be_null=True))
    header = padded(MIXED).split("\n")[0].split(",")
    assert table.column_names == header + ["_line", "_rules"]
    assert table.num_rows == 3
    rows = table.to_pylist()
    assert [(r["period"], r["branch_id"], r["branch_name"], r["txn_online"], r["txn_total"], r["extra_note"])
            for r in rows] == [
        ("2020-01", "0002", "海淀", " 12.5 ", "40", "b"),
        ("2020-13", "0004", "和平", None, None, "d"),
        ("2020-01", "0005", "浦东", None, "40", None),
    ]
    assert [r["_line"] for r in rows] == [3, 6, 7]
    assert [r["_rules"] for r in rows] == [
        "not-whole-number(txn_online)", "period-format(period)", "pair-incomplete(txn_online/txn_total)"]
    assert all(r[c] is None for r in rows for c in header[6:])
    document = json.loads(result.stdout)
    assert document["skipped"] == {"rows": 3, "by_rule": {
        "not-whole-number": 1, "period-format": 1, "pair-incomplete": 1}}


def test_evaluate_refuses_invalid_rows_without_skip(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", MIXED)
    result = kpi("evaluate", path, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "5 rows read, 2 valid, 3 invalid" in result.stderr
    assert "line 3: ' 12.5 '" in result.stderr
    assert f"kpi: error: {path}: 3 of 5 rows break the data contract" in result.stderr
    assert "--skip-invalid" in result.stderr


def test_rejects_needs_skip_invalid(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", CLEAN)
    result = kpi("evaluate", path, "--rejects", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert "--rejects needs --skip-invalid" in result.stderr
    assert not (tmp_path / "r.csv").exists()


def result_for(document: dict, target: str, period: str) -> dict:
    (found,) = [r for r in document["results"] if r["target"] == target and r["period"] == period]
    return found


def test_skip_invalid_evaluates_only_the_valid_rows(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", MIXED)
    result = kpi("evaluate", path, "--skip-invalid", "--format", "json")
    assert result.exit_code == 1  # 90 / 140 = 64 % misses the 70 % target
    document = json.loads(result.stdout)
    online = result_for(document, "online_txn_share", "2020-01")
    # rows 0012 (60/100) and 0003 (30/40); 0002, 0004 and 0005 left out
    assert (online["numerator"], online["denominator"]) == (90, 140)
    assert online["actual"] == pytest.approx(90 / 140)
    assert online["status"] == "fail"
    assert document["skipped"]["rows"] == 3
    assert document["evidence"]["rows_read"] == 5
    assert document["evidence"]["rows_rejected"] == 3


def test_blank_pair_is_left_out_not_counted_as_zero(tmp_path):
    path = write_csv(tmp_path / "monthly.csv",
                     "period,branch_id,txn_online,txn_total,staff_trained,staff_total,literacy_events_online\n"
                     "2020-01,0001,80,100,,,3\n"
                     "2020-01,0002,,,9,10,\n"
                     "2020-01,0003,0,0,,,\n")
    result = kpi("evaluate", path, "--format", "json")
    assert result.exit_code in (0, 1)
    document = json.loads(result.stdout)
    online = result_for(document, "online_txn_share", "2020-01")
    assert (online["numerator"], online["denominator"]) == (80, 100)  # 0002's blank pair is not a 0/0 row
    assert online["status"] == "pass"
    staff = result_for(document, "staff_training_rate", "2020-01")
    assert (staff["numerator"], staff["denominator"]) == (9, 10)  # only 0002 reported staff
    # nobody reported the survey: "no data", where blanks read as 0 would give 0/0 or 0
    survey = result_for(document, "customer_satisfaction", "2020-01")
    assert survey["status"] == "no_data"
    assert survey["numerator"] is None and survey["denominator"] is None
    events = result_for(document, "literacy_events_online", "2020-01")
    assert events["numerator"] == 3 and events["status"] == "pass"  # 3 >= 2, blanks add nothing
    participants = result_for(document, "literacy_participants", "2020-01")
    assert participants["status"] == "no_data"  # all blank: not a count of 0 failing the 500 target
    assert participants["numerator"] is None
    assert document["skipped"]["rows"] == 0


def test_zero_whole_is_no_data_and_blank_stays_na_in_the_frame(tmp_path):
    validated = check(write_csv(tmp_path / "monthly.csv",
                                "period,branch_id,txn_online,txn_total\n2020-01,0001,,\n2020-01,0002,0,0\n"))
    frame = validated.frame
    assert frame["txn_online"].isna().tolist() == [True, False]
    assert frame["txn_total"].isna().tolist() == [True, False]
    assert int(frame["txn_total"].iloc[1]) == 0


# --- completeness -------------------------------------------------------------------------

GAPPY = (
    "period,branch_id\n"
    "2020-01,0001\n"
    "2020-01,0002\n"
    "2020-02,0001\n"
    "2020-03,0001\n"
    "2020-03,0002\n"
)


def test_missing_month_is_a_warning(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", GAPPY)
    result = kpi("validate", path, "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["warnings"] == [{
        "rule": "branch-missing-months",
        "message": "1 branch(es) reported in some months of the file but not in others",
        "items": ["0002: missing 2020-02"], "error": False,
    }]
    text = kpi("validate", path)
    assert text.exit_code == 0
    assert "! branch-missing-months" in text.stdout and "0002: missing 2020-02" in text.stdout


def test_missing_month_is_an_error_with_require_complete(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", GAPPY)
    result = kpi("validate", path, "--require-complete", "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["rows_invalid"] == 0
    assert report["warnings"][0]["error"] is True
    text = kpi("validate", path, "--require-complete")
    assert "✗ branch-missing-months" in text.stdout
    evaluated = kpi("evaluate", path, "--require-complete", "--format", "json")
    assert evaluated.exit_code == 2
    assert "0002: missing 2020-02" in evaluated.stderr


def test_master_list_names_an_absent_branch(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id\n2020-01,0001\n2020-01,0002\n")
    master = tmp_path / "master.csv"
    master.write_text("branch_id,branch_name\n0001,朝阳\n0002,海淀\n0017,和平\n", encoding="utf-8")
    result = kpi("validate", path, "--branches", master, "--format", "json")
    assert result.exit_code == 0
    warnings = json.loads(result.stdout)["warnings"]
    assert warnings == [{
        "rule": "branch-not-in-file", "message": "1 branch(es) of the master list do not appear in the file",
        "items": ["0017"], "error": False,
    }]
    strict = kpi("validate", path, "--branches", master, "--require-complete")
    assert strict.exit_code == 2
    assert "✗ branch-not-in-file" in strict.stdout and "0017" in strict.stdout


def test_master_list_one_id_per_line_and_unknown_branch(tmp_path):
    path = write_csv(tmp_path / "monthly.csv", "period,branch_id\n2020-01,0001\n2020-01,0099\n")
    master = tmp_path / "master.txt"
    master.write_text("branch_id\n0001\n\n", encoding="utf-8")
    validated = check(path, branches=["0001"])
    assert [(w.rule, w.items) for w in validated.report.warnings] == [("branch-not-in-master", ("0099",))]
    result = kpi("validate", path, "--branches", master)
    assert result.exit_code == 0
    assert "branch-not-in-master" in result.stdout and "0099" in result.stdout


def test_warning_rules_are_documented():
    assert {"branch-missing-months", "branch-not-in-file", "branch-not-in-master", "branch-id-not-text",
            "extra-columns"} == set(WARNINGS)


def test_a_row_with_a_bad_period_is_no_duplicate_of_a_good_one(tmp_path):
    # '2020-02-30' and '2020-02-99' are not months, so they cannot clash with 0001's 2020-02 row
    path = write_csv(tmp_path / "monthly.csv",
                     "period,branch_id\n"
                     "2020-02-30,0001\n"
                     "2020-02,0001\n"
                     "2020-02-99,0001\n")
    validated = check(path)
    assert problems(validated) == [("period-format", "period", 2, [(2, "2020-02-30"), (4, "2020-02-99")])]
    assert validated.frame["period"].tolist() == ["2020-02"]


def test_skipped_counts_rows_per_rule_not_cells(export):
    """A row negative in two columns is one row left out, under 'negative' once."""
    path = export([
        {"period": "2020-03", "branch_id": "0001", "txn_online": -1, "txn_total": 10, "staff_trained": -2,
         "staff_total": 5},
        {"period": "2020-03", "branch_id": "0002", "txn_online": 7, "txn_total": 10},
    ])
    result = kpi("evaluate", path, "--skip-invalid", "--format", "json")
    document = json.loads(result.stdout)
    assert document["skipped"] == {"rows": 1, "by_rule": {"negative": 1}}


def test_parquet_written_by_pandas_with_a_duplicate_is_reported_not_a_crash(tmp_path):
    """pandas writes text as large_string; the duplicate report must still word its examples."""
    frame = pd.read_csv(Path(__file__).parent.parent / "sample_data" / "monthly.csv", dtype=str,
                        keep_default_na=False).head(3)
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    path = tmp_path / "dup.parquet"
    frame.to_parquet(path)
    assert pq.read_schema(path).field("branch_id").type == pa.large_string()
    result = kpi("validate", path)
    assert result.exit_code == 2
    assert "duplicate-key" in result.stdout and "row index 1" in result.stdout and "row index 3" in result.stdout
    assert "Traceback" not in result.output


def test_hex_is_not_a_whole_number(export):
    """Arrow's integer parser reads 0x10 as 16; the contract does not."""
    path = export([{"period": "2020-03", "branch_id": "0001", "literacy_events_online": "0x10"}])
    result = kpi("validate", path, "--format", "json")
    problem = json.loads(result.stdout)["problems"][0]
    assert (result.exit_code, problem["rule"], problem["examples"]) == (2, "not-whole-number", [{"line": 2, "value": "0x10"}])


def test_rejects_keep_an_export_s_own_line_column(export, tmp_path):
    path = export([{"period": "2020-13", "branch_id": "0001", "_line": "mine"}],
                  columns=[*CONTRACT_COLUMNS, "_line"])
    rejects = tmp_path / "rejects.csv"
    assert kpi("evaluate", path, "--skip-invalid", "--rejects", rejects).exit_code == 2  # nothing left to evaluate
    frame = pd.read_csv(rejects, dtype=str)
    assert list(frame[["_line", "__line", "_rules"]].iloc[0]) == ["mine", "2", "period-format(period)"]
