"""Every output format, checked for content on hand-made data and on the sample."""

import io
import json
import xml.etree.ElementTree as ET

import pandas as pd

from covidbank_kpi.report import guard_cell, sparkline

from .conftest import SAMPLE, kpi


def two_months(export):
    """One branch, two months. By hand, at bank level:
    online_txn_share   2020-03  80/100 pass     2020-04  50/100 fail, 20 short of 70
    literacy_events    2020-03  2 pass          2020-04  1 fail, 1 short of 2
    everything else: no_data (8 ratio targets + literacy_participants) in both months."""
    return export([
        {"period": "2020-03", "branch_id": "0001", "region": "=HYPERLINK(\"x\")", "txn_online": 80, "txn_total": 100,
         "literacy_events_online": 2},
        {"period": "2020-04", "branch_id": "0001", "region": "=HYPERLINK(\"x\")", "txn_online": 50, "txn_total": 100,
         "literacy_events_online": 1},
    ])


def test_junit_has_one_case_per_target_period_scope_and_failures_with_value_and_threshold(export):
    result = kpi("evaluate", two_months(export), "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("22", "2", "18")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert len(suites) == 11
    online = suites["online_txn_share"]
    assert (online.get("tests"), online.get("failures")) == ("2", "1")
    failure = online.find("testcase/failure")
    assert "50.00%" in failure.get("message") and "≥ 70%" in failure.get("message")
    assert "shortfall 20" in failure.get("message")
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["rows_read"] == "2" and len(props["input_sha256"]) == 64


def test_csv_round_trips_through_pandas_and_guards_formulas(export):
    result = kpi("evaluate", two_months(export), "--format", "csv", "--by", "region")
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"scope": str})
    assert len(frame) == 22
    row = frame[(frame["target"] == "online_txn_share") & (frame["period"] == "2020-04")].iloc[0]
    assert (row["status"], row["numerator"], row["denominator"], row["shortfall"]) == ("fail", 50, 100, 20)
    assert row["scope"] == "'=HYPERLINK(\"x\")"
    assert row["actual"] == 0.5  # numbers stay numbers
    assert row["rows_read"] == 2


def test_guard_cell():
    assert [guard_cell(v) for v in ("=1+1", "+86", "-5", "@SUM", "华东", "0012")] == [
        "'=1+1", "'+86", "'-5", "'@SUM", "华东", "0012"]


def test_markdown_groups_by_owner(export):
    result = kpi("evaluate", two_months(export), "--format", "markdown", "--group-by-owner", "--lang", "en")
    text = result.stdout
    assert "## Technology" in text and "## Customer service" in text
    line = next(l for l in text.splitlines() if "2020-04" in l and "Online transaction share" in l)
    assert "| 50.00% | ≥ 70% | FAIL | 50 / 100 | 20 more online transactions |" in line


def test_output_file_takes_the_format_from_its_suffix_and_replaces_atomically(export, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("last good report", encoding="utf-8")
    assert kpi("evaluate", two_months(export), "--output", target).exit_code == 1
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["fail"] == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []  # no temp file left


def test_owner_filter_keeps_one_department(export):
    result = kpi("evaluate", two_months(export), "--format", "json", "--owner", "科技部")
    targets = {r["target"] for r in json.loads(result.stdout)["results"]}
    assert targets == {"online_txn_share", "smart_service_share"}


def test_sample_junit_and_json_agree():
    summary = json.loads(kpi("evaluate", SAMPLE / "monthly.parquet", "--format", "json").stdout)["summary"]
    root = ET.fromstring(kpi("evaluate", SAMPLE / "monthly.parquet", "--format", "junit").stdout)
    assert int(root.get("failures")) == summary["fail"]
    assert int(root.get("tests")) == sum(summary.values())


def test_sparkline_scales_between_lowest_and_highest():
    assert sparkline([0.1, 0.5, 0.9]) == "▁▄█"
    assert sparkline([None, 0.2, 0.2]) == " ▁▁"


def test_every_format_can_group_by_owner(export):
    path = two_months(export)
    document = json.loads(kpi("evaluate", path, "--format", "json", "--group-by-owner", "--lang", "en").stdout)
    owners = [r["owner"] for r in document["results"]]
    # alphabetical in English: Customer service, Human resources, Operations, Risk management, Technology
    assert owners[0] == "Customer service" and owners[-1] == "Technology"
    assert owners == sorted(owners)
    root = ET.fromstring(kpi("evaluate", path, "--format", "junit", "--group-by-owner", "--lang", "en").stdout)
    assert [s.get("name") for s in root.iter("testsuite")] == [
        "Customer service", "Human resources", "Operations", "Risk management", "Technology"]
    frame = pd.read_csv(io.StringIO(kpi("evaluate", path, "--format", "csv", "--group-by-owner", "--lang", "en").stdout))
    assert list(frame["owner"]) == sorted(frame["owner"])


def test_report_files_are_readable_by_others_like_any_new_file(export, tmp_path):
    import os
    import stat

    target = tmp_path / "report.md"
    old = os.umask(0o022)
    try:
        kpi("evaluate", two_months(export), "--output", target)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_every_format_says_how_many_rows_were_left_out(export):
    path = export([
        {"period": "2020-03", "branch_id": "0001", "txn_online": 80, "txn_total": 100},
        {"period": "2020-03", "branch_id": "0002", "txn_online": -1, "txn_total": 100},
    ])
    markdown = kpi("evaluate", path, "--skip-invalid", "--format", "markdown").stdout
    assert "used 1, left out 1 (negative 1)" in markdown
    assert "1 invalid row(s) left out: negative 1" in kpi("evaluate", path, "--skip-invalid", "--lang", "en").stdout
    assert "1 行无效数据未参与计算: negative 1" in kpi("evaluate", path, "--skip-invalid").stdout
    frame = pd.read_csv(io.StringIO(kpi("evaluate", path, "--skip-invalid", "--format", "csv").stdout))
    assert set(frame["rows_rejected"]) == {1}
    root = ET.fromstring(kpi("evaluate", path, "--skip-invalid", "--format", "junit").stdout)
    assert {p.get("name"): p.get("value") for p in root.iter("property")}["rows_rejected"] == "1"
    html = kpi("evaluate", path, "--skip-invalid", "--format", "html", "--lang", "en").stdout
    assert '<span class="rows">2 / 1 / 1</span>' in html and "<dd>negative 1</dd>" in html


def test_sample_csv_round_trips_and_agrees_with_pandas_on_the_raw_file():
    """The oracle is pandas summing the sample CSV itself, not kpi."""
    raw = pd.read_csv(SAMPLE / "monthly.csv", dtype={"branch_id": str})
    june = raw[raw["period"] == "2020-06"]
    reported = june["txn_total"].notna()
    part, whole = int(june.loc[reported, "txn_online"].sum()), int(june.loc[reported, "txn_total"].sum())
    result = kpi("evaluate", SAMPLE / "monthly.csv", "--format", "csv", "--lang", "en")
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert len(frame) == 11 * 12
    row = frame[(frame["target"] == "online_txn_share") & (frame["period"] == "2020-06")].iloc[0]
    assert (row["numerator"], row["denominator"]) == (part, whole)
    assert row["status"] == ("pass" if part * 10 >= 7 * whole else "fail")
    assert (row["name"], row["section"], row["owner"]) == ("Online transaction share", "二.1", "Technology")
    assert row["rows_read"] == len(raw)


def test_sample_markdown_has_a_row_per_result_and_a_section_per_owner():
    text = kpi("evaluate", SAMPLE / "monthly.parquet", "--format", "markdown", "--group-by-owner").stdout
    rows = [line for line in text.splitlines() if line.startswith("| 2020-")]
    assert len(rows) == 11 * 12
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == [
        "人力资源部", "客户服务部", "科技部", "运营管理部", "风险管理部"]
