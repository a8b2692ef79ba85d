"""The command line as users and cron jobs run it: outputs, and every exit code."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SAMPLE, kpi


def passing_and_failing(export):
    return (
        export([{"period": "2020-03", "branch_id": "0001", "txn_online": 80, "txn_total": 100}], name="good.csv"),
        export([{"period": "2020-03", "branch_id": "0001", "txn_online": 10, "txn_total": 100}], name="bad.csv"),
    )


def test_exit_0_when_every_evaluated_result_passes_and_1_when_one_fails(export, one_target):
    good, bad = passing_and_failing(export)
    assert kpi("evaluate", good, "--targets", one_target()).exit_code == 0
    assert kpi("evaluate", bad, "--targets", one_target()).exit_code == 1


def test_no_data_and_not_applicable_do_not_fail(export):
    # only online transactions reported: every other target is no_data, count targets too
    path = export([{"period": "2020-03", "branch_id": "0001", "txn_online": 80, "txn_total": 100},
                   {"period": "2024-01", "branch_id": "0001", "txn_online": 1, "txn_total": 100}])
    result = kpi("evaluate", path, "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)["summary"]
    assert summary == {"pass": 1, "warn": 0, "fail": 0, "no_data": 10, "not_applicable": 11}


def test_fail_on_sets_which_statuses_give_exit_1(export, one_target):
    good, bad = passing_and_failing(export)
    assert kpi("evaluate", bad, "--targets", one_target(), "--fail-on", "never").exit_code == 0
    warned = one_target(extra="warn_threshold: 0.90")
    assert kpi("evaluate", good, "--targets", warned).exit_code == 0
    assert kpi("evaluate", good, "--targets", warned, "--fail-on", "warn").exit_code == 1


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "missing.parquet"], "missing.parquet: file not found"),
    (["evaluate", "{good}", "--targets", "missing.yaml"], "missing.yaml: targets file not found"),
    (["evaluate", "{good}", "--period", "2020-13"], "--period '2020-13' is not a month"),
    (["evaluate", "{good}", "--period", "2021-01"], "the file has no rows for 2021-01"),
    (["evaluate", "{good}", "--owner", "Marketing"], "no target is owned by 'Marketing'"),
    (["evaluate", "{good}", "--rejects", "r.csv"], "--rejects needs --skip-invalid"),
    (["evaluate", "{good}", "--by", "city"], "Invalid value for '--by'"),
    (["evaluate", "{good}", "--output", "/nonexistent/dir/r.json"], "the folder does not exist"),
])
def test_exit_2_with_one_paragraph_and_no_traceback(export, args, fragment):
    good, _ = passing_and_failing(export)
    result = kpi(*[a.format(good=good) for a in args])
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_invalid_rows_stop_evaluation_with_exit_2(export):
    path = export([{"period": "2020-03", "branch_id": "0001", "txn_online": 120, "txn_total": 100}])
    result = kpi("evaluate", path)
    assert result.exit_code == 2
    assert "part-exceeds-whole" in result.stderr
    assert "line 2" in result.stderr


def test_json_shape(export, one_target):
    good, _ = passing_and_failing(export)
    document = json.loads(kpi("evaluate", good, "--targets", one_target(), "--format", "json").stdout)
    assert document["schema_version"] == 1
    assert document["input"] == str(good)
    assert document["results"] == [{
        "target": "online_txn_share", "period": "2020-03", "level": "bank", "scope": "bank", "status": "pass",
        "actual": 0.8, "threshold": 0.7, "comparator": ">=", "numerator": 80, "denominator": 100, "shortfall": None,
    }]
    assert document["summary"] == {"pass": 1, "warn": 0, "fail": 0, "no_data": 0, "not_applicable": 0}
    evidence = document["evidence"]
    assert (evidence["rows_read"], evidence["rows_used"], evidence["rows_rejected"]) == (1, 1, 0)
    assert len(evidence["input_sha256"]) == 64


def test_csv_and_parquet_samples_give_identical_results():
    parquet = json.loads(kpi("evaluate", SAMPLE / "monthly.parquet", "--format", "json").stdout)
    csv = json.loads(kpi("evaluate", SAMPLE / "monthly.csv", "--format", "json").stdout)
    assert parquet["results"] == csv["results"]
    assert len(parquet["results"]) == 11 * 12


def test_sample_data_shows_passes_and_fails():
    result = kpi("evaluate", SAMPLE / "monthly.parquet", "--format", "json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)["summary"]
    assert summary["pass"] > 0 and summary["fail"] > 0


def test_table_shows_every_target_with_owner_threshold_and_basis(export, one_target):
    _, bad = passing_and_failing(export)
    result = kpi("evaluate", bad, "--targets", one_target(), "--lang", "en")
    assert result.exit_code == 1
    line = next(l for l in result.stdout.splitlines() if "Online transaction share" in l)
    for cell in ("二.1", "Technology", "10.00%", "≥ 70%", "FAIL", "10 / 100", "60"):
        assert cell in line


def test_version_and_help():
    assert kpi("--version").stdout.strip() == "kpi (covidbank-kpi) 0.1.0"
    assert "evaluate" in kpi("--help").stdout


def test_help_imports_neither_pandas_nor_pyarrow():
    code = ("import sys; from covidbank_kpi.cli import app; sys.argv=['kpi','--help']\n"
            "try: app()\nexcept SystemExit: pass\n"
            "print('pandas' in sys.modules, 'pyarrow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_end_to_end_in_a_real_process(tmp_path):
    """The installed console script, as a cron job runs it."""
    out = tmp_path / "report.json"
    script = Path(sys.executable).with_name("kpi")  # the console script pip installed beside python
    kpi_bin = [str(script)] if script.exists() else [sys.executable, "-m", "covidbank_kpi.cli"]
    done = subprocess.run([*kpi_bin, "evaluate", str(SAMPLE / "monthly.csv"), "--output", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["evidence"]["rows_read"] == 492
    broken = subprocess.run([*kpi_bin, "evaluate", str(tmp_path / "nope.csv")], capture_output=True, text=True,
                            timeout=120)
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr


def test_nothing_left_to_evaluate_is_an_error_not_a_pass(export):
    path = export([{"period": "2020-13", "branch_id": "0001", "txn_online": 80, "txn_total": 100}])
    result = kpi("evaluate", path, "--skip-invalid")
    assert result.exit_code == 2
    assert "No valid row is left to evaluate" in result.stderr


def test_schema_prints_the_contract_and_the_targets_schema():
    contract = json.loads(kpi("schema").stdout)
    assert contract["properties"]["period"]["pattern"] == r"^[0-9]{4}-(0[1-9]|1[0-2])$"
    assert contract["properties"]["txn_online"]["x-whole"] == "txn_total"
    assert "branch_id" in contract["required"]
    targets = json.loads(kpi("schema", "--targets").stdout)
    assert {"window", "targets"} <= set(targets["required"])
