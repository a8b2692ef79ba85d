"""Evaluation: ratio of sums, blanks excluded, exact boundaries, windows and levels.

Every expected number is worked out by hand in the test.
"""

import pytest

from covidbank_kpi.evaluate import span_labels
from covidbank_kpi.pipeline import evaluate_file

import pandas as pd


def results(path, **kwargs):
    run = evaluate_file(path, **kwargs)
    return {(r.target, r.period, r.scope): r for r in run.evaluation.records()}


def online(rows):
    """Rows that report only the online-transaction pair."""
    return [{"period": p, "branch_id": b, "region": reg, "txn_online": part, "txn_total": whole}
            for p, b, reg, part, whole in rows]


def test_ratio_of_sums_not_mean_of_ratios(export, one_target):
    # branch 0001: 9/10 = 90%, branch 0002: 60/100 = 60%. The mean of ratios, 75%, would pass;
    # the bank's ratio of sums is 69/110 = 62.7%, which fails >= 70%.
    path = export(online([("2020-03", "0001", "A", 9, 10), ("2020-03", "0002", "A", 60, 100)]))
    r = results(path, targets=one_target())[("online_txn_share", "2020-03", "bank")]
    assert (r.status, r.numerator, r.denominator) == ("fail", 69, 110)
    assert r.actual == pytest.approx(69 / 110)
    # 70% of 110 is 77 online transactions: 8 more were needed
    assert r.shortfall == 8


def test_blank_is_not_reported_while_zero_counts(export, one_target):
    blank = export(online([("2020-03", "0001", "A", 70, 100), ("2020-03", "0002", "A", "", "")]))
    zero = export(online([("2020-03", "0001", "A", 70, 100), ("2020-03", "0002", "A", 0, 50)]))
    r_blank = results(blank, targets=one_target())[("online_txn_share", "2020-03", "bank")]
    r_zero = results(zero, targets=one_target())[("online_txn_share", "2020-03", "bank")]
    assert (r_blank.status, r_blank.numerator, r_blank.denominator) == ("pass", 70, 100)
    # 70 / 150 = 46.7%: 105 would be 70%, so 35 short
    assert (r_zero.status, r_zero.numerator, r_zero.denominator, r_zero.shortfall) == ("fail", 70, 150, 35)


def test_zero_denominator_and_nothing_reported_are_no_data(export, one_target):
    path = export(online([("2020-03", "0001", "A", 0, 0), ("2020-04", "0001", "A", "", "")]))
    found = results(path, targets=one_target())
    for period in ("2020-03", "2020-04"):
        r = found[("online_txn_share", period, "bank")]
        assert (r.status, r.actual, r.shortfall) == ("no_data", None, None)


@pytest.mark.parametrize("comparator, part, whole, status", [
    (">=", 70, 100, "pass"),   # exactly at the boundary passes
    (">=", 69, 100, "fail"),
    (">", 70, 100, "fail"),
    ("<=", 70, 100, "pass"),
    ("<", 70, 100, "fail"),
    (">=", 7, 10, "pass"),
    (">=", 699999999, 1000000000, "fail"),
])
def test_exact_boundary(export, one_target, comparator, part, whole, status):
    path = export(online([("2020-03", "0001", "A", part, whole)]))
    r = results(path, targets=one_target(comparator=comparator))[("online_txn_share", "2020-03", "bank")]
    assert r.status == status


def test_boundary_where_floats_would_flip_the_verdict(export, one_target):
    # 0.1 + 0.2 > 0.3 in floats; here 3/10 against a threshold of 0.3 with '>' must fail,
    # and with '<=' must pass, exactly.
    path = export(online([("2020-03", "0001", "A", 3, 10)]))
    assert results(path, targets=one_target("0.3", ">"))[("online_txn_share", "2020-03", "bank")].status == "fail"
    assert results(path, targets=one_target("0.3", "<="))[("online_txn_share", "2020-03", "bank")].status == "pass"


def test_shortfall_in_exact_arithmetic(export, one_target):
    # 0.56 * 100 is 56.00000000000001 in floats, whose ceiling is 57; exactly, 56 parts are needed.
    path = export(online([("2020-03", "0001", "A", 50, 100)]))
    r = results(path, targets=one_target("0.56"))[("online_txn_share", "2020-03", "bank")]
    assert (r.status, r.shortfall) == ("fail", 6)
    # lower is better: at most 30% of 100 allowed, 50 is 20 too many
    r = results(path, targets=one_target("0.30", "<="))[("online_txn_share", "2020-03", "bank")]
    assert (r.status, r.shortfall) == ("fail", 20)


def test_month_outside_the_window_is_not_applicable(export, one_target):
    path = export(online([("2019-12", "0001", "A", 10, 100), ("2023-01", "0001", "A", 10, 100),
                          ("2022-12", "0001", "A", 10, 100)]))
    found = results(path, targets=one_target())
    assert found[("online_txn_share", "2019-12", "bank")].status == "not_applicable"
    assert found[("online_txn_share", "2023-01", "bank")].status == "not_applicable"
    assert found[("online_txn_share", "2022-12", "bank")].status == "fail"


def test_a_target_may_narrow_the_window(export, one_target):
    targets = one_target(extra="window: {start: 2020-06, end: 2020-12}")
    path = export(online([("2020-05", "0001", "A", 10, 100), ("2020-06", "0001", "A", 10, 100)]))
    found = results(path, targets=targets)
    assert found[("online_txn_share", "2020-05", "bank")].status == "not_applicable"
    assert found[("online_txn_share", "2020-06", "bank")].status == "fail"


def test_warning_band(export, one_target):
    targets = one_target(extra="warn_threshold: 0.75")
    path = export(online([("2020-03", "0001", "A", 72, 100), ("2020-04", "0001", "A", 75, 100),
                          ("2020-05", "0001", "A", 69, 100)]))
    found = results(path, targets=targets)
    assert [found[("online_txn_share", p, "bank")].status for p in ("2020-03", "2020-04", "2020-05")] == [
        "warn", "pass", "fail"]


def test_by_branch_keeps_leading_zeros_and_by_region_sums_its_branches(export, one_target):
    path = export(online([
        ("2020-03", "0012", "华东", 80, 100),
        ("2020-03", "0013", "华东", 50, 100),
        ("2020-03", "0120", "华南", 7, 10),
        ("2020-03", "0121", "", 1, 10),
    ]))
    branches = results(path, targets=one_target(), by="branch")
    assert sorted(scope for (_, _, scope) in branches) == ["0012", "0013", "0120", "0121"]
    assert branches[("online_txn_share", "2020-03", "0013")].status == "fail"
    assert branches[("online_txn_share", "2020-03", "0120")].status == "pass"
    regions = results(path, targets=one_target(), by="region")
    east = regions[("online_txn_share", "2020-03", "华东")]
    # 130 / 200 = 65%: 140 needed, 10 short
    assert (east.status, east.numerator, east.denominator, east.shortfall) == ("fail", 130, 200, 10)
    south = regions[("online_txn_share", "2020-03", "华南")]
    assert (south.status, south.numerator, south.denominator) == ("pass", 7, 10)
    # a row without a region is its own group, not dropped
    assert regions[("online_txn_share", "2020-03", "(no region)")].numerator == 1


def test_count_targets_are_bank_wide(export):
    rows = [
        {"period": "2020-03", "branch_id": "0000", "literacy_events_online": 1, "literacy_participants": 300},
        {"period": "2020-03", "branch_id": "0001", "literacy_events_online": 1, "literacy_participants": 250},
        {"period": "2020-04", "branch_id": "0000", "literacy_events_online": 1, "literacy_participants": ""},
    ]
    found = results(export(rows))
    events = found[("literacy_events_online", "2020-03", "bank")]
    assert (events.status, events.numerator, events.denominator, events.actual) == ("pass", 2, None, 2.0)
    people = found[("literacy_participants", "2020-03", "bank")]
    assert (people.status, people.numerator) == ("pass", 550)
    april = found[("literacy_events_online", "2020-04", "bank")]
    assert (april.status, april.shortfall) == ("fail", 1)
    assert found[("literacy_participants", "2020-04", "bank")].status == "no_data"
    by_branch = results(export(rows), by="branch")
    assert by_branch[("literacy_events_online", "2020-03", "0001")].status == "not_applicable"


def test_period_option_selects_one_month(export, one_target):
    path = export(online([("2020-03", "0001", "A", 80, 100), ("2020-04", "0001", "A", 10, 100)]))
    found = results(path, targets=one_target(), period="2020-03")
    assert list(found) == [("online_txn_share", "2020-03", "bank")]


def test_spans_sum_flows_take_the_last_month_of_stocks_and_need_every_month_of_counts(export):
    rows = []
    for month, online_, staff_trained, staff, events in [("2020-01", 60, 8, 10, 2), ("2020-02", 90, 9, 10, 1),
                                                         ("2020-03", 80, 10, 12, 3)]:
        rows.append({"period": month, "branch_id": "0001", "txn_online": online_, "txn_total": 100,
                     "staff_trained": staff_trained, "staff_total": staff})
        rows.append({"period": month, "branch_id": "0000", "literacy_events_online": events})
    found = results(export(rows), over="quarter")
    txn = found[("online_txn_share", "2020-Q1", "bank")]
    assert (txn.numerator, txn.denominator, txn.status) == (230, 300, "pass")  # flows: 230/300 = 76.7%
    staff = found[("staff_training_rate", "2020-Q1", "bank")]
    assert (staff.numerator, staff.denominator, staff.status) == (10, 12, "fail")  # stock: March only, 83.3%
    events = found[("literacy_events_online", "2020-Q1", "bank")]
    # 6 events in the quarter, but February had 1: the quarter fails, short by that month's 1
    assert (events.numerator, events.status, events.shortfall, events.actual) == (6, "fail", 1, 1.0)


def test_span_labels():
    months = pd.Series(["2019-12", "2020-01", "2020-05", "2022-12", "2023-01"])
    assert list(span_labels(months, "quarter", "2020-01..2022-12")) == [
        "2019-Q4", "2020-Q1", "2020-Q2", "2022-Q4", "2023-Q1"]
    assert list(span_labels(months, "year", "2020-01..2022-12")) == ["2019", "2020", "2020", "2022", "2023"]
    assert list(span_labels(months, "window", "2020-01..2022-12")) == [
        "2019-12", "2020-01..2022-12", "2020-01..2022-12", "2020-01..2022-12", "2023-01"]


def test_drivers_name_the_branches_furthest_behind(export, one_target):
    path = export([
        {"period": "2020-03", "branch_id": "0001", "branch_name": "甲", "txn_online": 90, "txn_total": 100},
        {"period": "2020-03", "branch_id": "0002", "branch_name": "乙", "txn_online": 50, "txn_total": 100},
        {"period": "2020-03", "branch_id": "0003", "branch_name": "丙", "txn_online": 60, "txn_total": 100},
    ])
    run = evaluate_file(path, targets=one_target())
    # bank: 200/300 = 66.7% fails; branch 0002 needs 20 more, 0003 needs 10, 0001 passes
    assert [(d.branch_id, d.branch_name, d.shortfall) for d in run.drivers] == [("0002", "乙", 20), ("0003", "丙", 10)]


def test_drivers_settle_ties_by_branch_id_and_keep_five(export, one_target):
    # seven branches each 10 short of 70%: the five with the smallest ids are named
    rows = [{"period": "2020-03", "branch_id": f"00{i:02d}", "txn_online": 60, "txn_total": 100}
            for i in (7, 3, 5, 1, 6, 2, 4)]
    run = evaluate_file(export(rows), targets=one_target())
    assert [(d.branch_id, d.shortfall) for d in run.drivers] == [
        ("0001", 10), ("0002", 10), ("0003", 10), ("0004", 10), ("0005", 10)]
