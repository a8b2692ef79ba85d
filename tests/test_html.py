"""The HTML report: content worked out by hand on tiny exports, safety, and a real browser render."""

from __future__ import annotations

import csv
import hashlib
import html
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from covidbank_kpi.html import render_html
from covidbank_kpi.pipeline import evaluate_file
from covidbank_kpi.schema import CONTRACT_COLUMNS

SAMPLE = Path(__file__).parent.parent / "sample_data" / "monthly.parquet"
CHROMIUM = Path("/usr/bin/chromium")
TARGET_IDS = {
    "online_txn_share", "health_check_pass_rate", "relief_resolution_rate", "staff_training_rate",
    "customer_satisfaction", "online_consultation_share", "literacy_events_online", "literacy_participants",
    "care_callback_success_rate", "campaign_conversion_rate", "smart_service_share",
}

# One branch, two months. Verdicts against the built-in targets, by hand:
#   2020-01  pass: txn 80/100, relief 8/10 (= 80%), staff 9/10 (= 90%), events 2, care 8/10, campaign 3/10
#                  (= 30%), service 5/10 (= 50%)
#            fail: health 90/100, consultations 50/100, participants 499;   no data: survey
#   2020-02  pass: health 95/100, relief 8/10, survey 9/10, consultations 60/100, participants 500
#            fail: txn 60/100 (10 short of 70), staff 8/10 (1 short of 9), events 1, campaign 2/10 (1 short of 3)
#            no data: care, service
#   in all: 12 pass, 7 fail, 3 no data
MONTH_1 = dict(txn_online=80, txn_total=100, health_checks_passed=90, health_checks_total=100,
               relief_resolved=8, relief_affected=10, staff_trained=9, staff_total=10,
               consultations_online=50, consultations_total=100, literacy_events_online=2,
               literacy_participants=499, care_callbacks_successful=8, care_callbacks_attempted=10,
               campaign_converted=3, campaign_targeted=10, service_smart=5, service_total=10)
MONTH_2 = dict(txn_online=60, txn_total=100, health_checks_passed=95, health_checks_total=100,
               relief_resolved=8, relief_affected=10, staff_trained=8, staff_total=10,
               survey_satisfied=9, survey_responses=10, consultations_online=60, consultations_total=100,
               literacy_events_online=1, literacy_participants=500, campaign_converted=2, campaign_targeted=10)


def write_export(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CONTRACT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def tiny_export(tmp_path: Path, *, name: str = "tiny.csv", branch_name: str = "Test & Co 支行",
                region: str = "华北") -> Path:
    who = dict(branch_id="0001", branch_name=branch_name, region=region)
    return write_export(tmp_path / name, [dict(period="2020-01", **who, **MONTH_1),
                                          dict(period="2020-02", **who, **MONTH_2)])


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def cells(page: str, row_pattern: str) -> list[str]:
    row = re.search(row_pattern + r"(.*?)</tr>", page, re.S)
    assert row, row_pattern
    return [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def chart(page: str, target: str) -> str:
    found = re.findall(rf'<svg class="chart" data-target="{target}".*?</svg>', page, re.S)
    assert len(found) == 1, target
    return found[0]


def tiles(page: str) -> dict[str, int]:
    return {s: int(n.replace(",", "")) for s, n in re.findall(r'data-status="(\w+)"><b>([\d,]+)</b>', page)}


def card_order(page: str) -> list[str]:
    return re.findall(r'<article class="card [^"]*" data-target="(\w+)"', page)


@pytest.fixture(scope="module")
def sample_page() -> str:
    return render_html(evaluate_file(SAMPLE))


def test_one_chart_per_target(sample_page):
    found = re.findall(r'<svg class="chart" data-target="(\w+)"', sample_page)
    assert len(found) == 11
    assert set(found) == TARGET_IDS


def test_tiles_count_results_by_status(tmp_path):
    page = render_html(evaluate_file(tiny_export(tmp_path)))
    assert tiles(page) == {"pass": 12, "warn": 0, "fail": 7, "no_data": 3, "not_applicable": 0}


def test_failing_targets_come_first(tmp_path):
    """Ordered by the latest month's verdict, 2020-02: fail, then pass, then no data; file order within each."""
    page = render_html(evaluate_file(tiny_export(tmp_path)))
    assert card_order(page) == [
        "online_txn_share", "staff_training_rate", "literacy_events_online", "campaign_conversion_rate",
        "health_check_pass_rate", "relief_resolution_rate", "customer_satisfaction", "online_consultation_share",
        "literacy_participants",
        "care_callback_success_rate", "smart_service_share",
    ]


def test_warn_sits_between_fail_and_pass(tmp_path):
    """Targets listed pass, warn, fail, later-window in the file are shown fail, warn, pass, n/a.

    Online share is 80% in 2020-01 and 60% in 2020-02, so: a_pass (>= 50%) passes twice; b_warn
    (>= 55%, warn below 65%) passes, then warns; c_fail (>= 70%) passes, then fails; d_later
    (window 2021) is not applicable twice.
    """
    def entry(target_id: str, threshold: str, extra: str = "") -> str:
        return (f"  - id: {target_id}\n    section: X\n    name: {{zh: {target_id}, en: {target_id}}}\n"
                f"    measure: {{zh: m, en: m}}\n    quote: q\n"
                f"    metric: {{ratio: {{part: txn_online, whole: txn_total}}}}\n"
                f"    test: {{comparator: '>=', threshold: {threshold}}}\n    levels: [bank]\n"
                f"    owner: {{department: {{zh: 科技部, en: Technology}}}}\n{extra}")
    targets = tmp_path / "targets.yaml"
    targets.write_text("version: 1\nwindow: {start: 2020-01, end: 2022-12}\ntargets:\n"
                       + entry("d_later", "0.5", "    window: {start: 2021-01, end: 2021-12}\n")
                       + entry("a_pass", "0.5") + entry("b_warn", "0.55", "    warn_threshold: 0.65\n")
                       + entry("c_fail", "0.7"), encoding="utf-8")
    page = render_html(evaluate_file(tiny_export(tmp_path), targets=targets))
    assert card_order(page) == ["c_fail", "b_warn", "a_pass", "d_later"]
    assert tiles(page) == {"pass": 4, "warn": 1, "fail": 1, "no_data": 0, "not_applicable": 2}


def test_owner_sections_list_latest_results_with_shortfalls(tmp_path):
    page = render_html(evaluate_file(tiny_export(tmp_path)), lang="en")
    owners = page[page.index('<section class="owners">'):]
    # departments in the order of their first target on the page (fail first)
    assert re.findall(r"<h3>([^<]+)</h3>", owners) == [
        "Technology", "Human resources", "Customer service", "Risk management", "Operations"]
    assert "Latest period 2020-02" in text_of(owners[:owners.index("</h2>")])
    row = r'<tr class="s-fail" data-target="{}">'
    assert cells(owners, row.format("online_txn_share")) == [
        "二.1 Online transaction share", "60.00%", "≥ 70%", "FAIL", "60 / 100", "10 more online transactions"]
    assert cells(owners, row.format("staff_training_rate")) == [
        "二.4 Staff training rate", "80.00%", "≥ 90%", "FAIL", "8 / 10", "1 more staff trained"]
    assert cells(owners, row.format("literacy_events_online")) == [
        "三.2 Online literacy events", "1", "≥ 2", "FAIL", "1", "1 more online events"]
    assert cells(owners, row.format("campaign_conversion_rate")) == [
        "三.4 Target-customer conversion", "20.00%", "≥ 30%", "FAIL", "2 / 10", "1 more converted customers"]
    assert cells(owners, r'<tr class="s-no_data" data-target="care_callback_success_rate">') == [
        "三.3 Care callback success rate", "—", "≥ 80%", "no data", "—", ""]
    assert cells(owners, r'<tr class="s-pass" data-target="health_check_pass_rate">') == [
        "二.2 Health-monitoring pass rate", "95.00%", "≥ 95%", "pass", "95 / 100", ""]


def test_branches_behind_each_failing_bank_ratio(tmp_path):
    """The count target (events) has no branch breakdown; the three failing ratios each list the one branch."""
    page = render_html(evaluate_file(tiny_export(tmp_path)), lang="en")
    assert re.findall(r'<div class="drivers" data-target="(\w+)"', page) == [
        "online_txn_share", "staff_training_rate", "campaign_conversion_rate"]
    block = page[page.index('<div class="drivers" data-target="online_txn_share"'):]
    assert cells(block, r"<tbody><tr>") == ["0001", "Test & Co 支行", "华北", "60.00%", "10 more online transactions"]
    assert "Test &amp; Co 支行" in block


def test_works_without_drivers(tmp_path):
    run = evaluate_file(tiny_export(tmp_path))
    bare = SimpleNamespace(evaluation=run.evaluation, validation=run.validation, evidence=run.evidence)
    page = render_html(bare)
    assert 'class="drivers"' not in page
    assert len(re.findall(r'<svg class="chart"', page)) == 11
    assert tiles(page)["fail"] == 7


def test_data_strings_are_escaped(tmp_path):
    path = tiny_export(tmp_path, name="export<i>.csv", branch_name="<script>alert(1)</script>",
                       region="<script>x</script>")
    page = render_html(evaluate_file(path, by="region"))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;x&lt;/script&gt;" in page  # the region is the scope of every result
    assert "export&lt;i&gt;.csv" in page
    assert "<i>" not in page


def test_branch_name_is_escaped_in_drivers(tmp_path):
    page = render_html(evaluate_file(tiny_export(tmp_path, branch_name="<script>alert(1)</script>")))
    assert "<script" not in page.lower()
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page


def test_nothing_is_fetched_at_view_time(sample_page):
    assert "http://" not in sample_page and "https://" not in sample_page
    assert not re.search(r"\b(src|href)\s*=", sample_page, re.I)
    assert "@import" not in sample_page and "url(" not in sample_page
    assert "<script" not in sample_page.lower()


def test_header_and_evidence(sample_page):
    assert sample_page.startswith("<!doctype html>")
    assert '<html lang="zh-CN">' in sample_page and '<meta charset="utf-8">' in sample_page
    assert "monthly.parquet · 2020-01 – 2020-12 · 层级 全行" in sample_page
    footer = text_of(sample_page[sample_page.index('<footer class="evidence">'):])
    assert "covidbank-kpi 0.1.0" in footer
    assert f"sha256 {hashlib.sha256(SAMPLE.read_bytes()).hexdigest()}" in footer
    assert "492 / 492 / 0" in footer  # the sample has 41 branches x 12 months, all valid


def test_english_labels(tmp_path):
    page = render_html(evaluate_file(tiny_export(tmp_path)), lang="en")
    assert '<html lang="en">' in page
    assert '<span class="pill s-fail">FAIL</span>' in page
    assert "未达标" not in page


def test_chart_axes_percentages_and_counts(tmp_path):
    """Axis steps worked out by hand: txn 60%..80% with the 70% line, padded 10% -> 50%..90% by 10%;
    participants 499/500, counts from 0 to 550 -> 0..600 by 200."""
    page = render_html(evaluate_file(tiny_export(tmp_path)))
    ratio = chart(page, "online_txn_share")
    assert re.findall(r'class="tick y"[^>]*>([^<]+)<', ratio) == ["50%", "60%", "70%", "80%", "90%"]
    assert re.findall(r'class="tick x"[^>]*>([^<]+)<', ratio) == ["2020-02", "2020-01"]
    assert re.findall(r'data-status="(\w+)"', ratio) == ["pass", "fail"]
    assert 'fill="#cf222e" data-status="fail"' in ratio  # the failing month is red
    count = chart(page, "literacy_participants")
    assert re.findall(r'class="tick y"[^>]*>([^<]+)<', count) == ["0", "200", "400", "600"]


def test_gaps_break_the_line(tmp_path):
    """Service has a value in 2020-01 only: one point, one hollow gap mark, and a path that never draws on."""
    page = render_html(evaluate_file(tiny_export(tmp_path)))
    service = chart(page, "smart_service_share")
    assert len(re.findall(r'<circle class="point"', service)) == 1
    assert len(re.findall(r'<circle class="gap"', service)) == 1
    assert " L" not in re.search(r'<path d="([^"]*)"', service).group(1)
    txn = re.search(r'<path d="([^"]*)"', chart(page, "online_txn_share")).group(1)
    assert txn.count("M") == 1 and txn.count("L") == 1


def test_single_period(tmp_path):
    page = render_html(evaluate_file(tiny_export(tmp_path), period="2020-02"))
    txn = chart(page, "online_txn_share")
    assert re.findall(r'class="tick x"[^>]*>([^<]+)<', txn) == ["2020-02"]
    (cx,) = re.findall(r'<circle class="point" cx="([\d.]+)"', txn)
    assert 0 < float(cx) < 360
    assert "meta\">tiny.csv · 2020-02 ·" in page


def test_region_level_draws_one_line_per_region(tmp_path):
    rows = [dict(period="2020-01", branch_id=f"{n:04d}", region=region, **MONTH_1)
            for n, region in enumerate(["东", "西", "南"], start=1)]
    page = render_html(evaluate_file(write_export(tmp_path / "three.csv", rows), by="region"))
    txn = chart(page, "online_txn_share")
    assert len(re.findall(r'<circle class="point"', txn)) == 3
    legend = page[page.index("</svg>", page.index('data-target="online_txn_share" viewBox')):]
    assert [text_of(i) for i in re.findall(r"<li>(.*?)</li>", legend[:legend.index("</ul>")])] == ["东", "南", "西"]
    # literacy targets are bank-only: not applicable at region level, drawn as an empty chart
    assert "不适用" in chart(page, "literacy_participants")


PROBE = """<script>
const drawn = [...document.querySelectorAll('svg.chart')].filter(svg => {
  const box = svg.getBoundingClientRect(), content = svg.getBBox();
  return box.width > 0 && box.height > 0 && content.width > 0 && content.height > 0;
});
document.body.dataset.renderedCharts = drawn.length;
document.body.dataset.scripts = document.scripts.length;
</script>"""


def browse(tmp_path: Path, page: str) -> str:
    """The DOM Chromium holds after rendering `page` with the probe appended."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    target = tmp_path / "report.html"
    target.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000", "--dump-dom",
         target.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_browser_renders_every_chart(tmp_path, sample_page):
    dom = browse(tmp_path, sample_page)
    assert re.search(r'data-rendered-charts="(\d+)"', dom).group(1) == "11"
    assert re.search(r'data-scripts="(\d+)"', dom).group(1) == "1"  # the probe only


def test_browser_shows_script_names_as_text(tmp_path):
    path = tiny_export(tmp_path, branch_name="<script>document.title='x'</script>",
                       region="<script>document.title='x'</script>")
    dom = browse(tmp_path, render_html(evaluate_file(path)))
    assert re.search(r'data-scripts="(\d+)"', dom).group(1) == "1"
    assert "<td>&lt;script&gt;document.title='x'&lt;/script&gt;</td>" in dom
    assert re.search(r'data-rendered-charts="(\d+)"', dom).group(1) == "11"
