"""targets.yaml: the built-in file declares the document's eleven targets; typos are clear errors."""

from fractions import Fraction
from pathlib import Path

import pytest

from covidbank_kpi.errors import TargetsError
from covidbank_kpi.targets import default_targets_path, load_targets, parse_targets

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed" / "document_zh.txt"


def test_built_in_file_declares_the_eleven_targets_with_owners_and_window():
    targets = load_targets()
    assert [t.id for t in targets.targets] == [
        "online_txn_share", "health_check_pass_rate", "relief_resolution_rate", "staff_training_rate",
        "customer_satisfaction", "online_consultation_share", "literacy_events_online", "literacy_participants",
        "care_callback_success_rate", "campaign_conversion_rate", "smart_service_share",
    ]
    assert (targets.window.start, targets.window.end) == ("2020-01", "2022-12")
    by_id = {t.id: t for t in targets.targets}
    assert by_id["online_txn_share"].threshold == Fraction(7, 10)
    assert by_id["health_check_pass_rate"].threshold == Fraction(19, 20)
    assert by_id["literacy_participants"].threshold == 500
    assert by_id["literacy_events_online"].levels == ["bank"]
    assert by_id["staff_training_rate"].owner.department.zh == "人力资源部"
    assert by_id["smart_service_share"].owner.department.en == "Technology"


def test_the_repository_file_is_the_packaged_file():
    """One source, not two copies that drift."""
    assert (ROOT / "targets.yaml").resolve() == default_targets_path().resolve()


@pytest.mark.skipif(not SEED.exists(), reason="the source document is in ../shared/seed")
def test_every_quote_is_the_document_s_own_sentence():
    document = SEED.read_text(encoding="utf-8")
    for target in load_targets().targets:
        assert target.quote in document, target.id


BASE = (ROOT / "targets.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("old, new, fragment, anchor", [
    # the anchor is the text on the line the message must point at
    ("part: txn_online", "part: txn_onlin", "did you mean 'txn_online'", "metric: {ratio: {part: txn_onlin,"),
    ("threshold: 0.95", "threshold: 95", "fraction between 0 and 1", 'test: {comparator: ">=", threshold: 95}'),
    ("threshold: 500}", "threshold: 500.5}", "must be a whole number", 'test: {comparator: ">=", threshold: 500.5}'),
    ('comparator: ">=", threshold: 0.70', 'comparator: "=>", threshold: 0.70', "comparator",
     'test: {comparator: "=>"'),
    ("levels: [bank]\n    owner: {department: {zh: 客户服务部, en: Customer service}}\n\n  - id: literacy_participants",
     "levels: [bank, city]\n    owner: {department: {zh: 客户服务部, en: Customer service}}\n\n  - id: literacy_participants",
     "'bank', 'region' or 'branch'", "levels: [bank, city]"),
])
def test_a_typo_names_the_entry_the_field_and_the_line(old, new, fragment, anchor):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    line = text[:text.index(anchor)].count("\n") + 1
    with pytest.raises(TargetsError) as caught:
        parse_targets(text, "t.yaml")
    message = caught.value.message()
    assert fragment in message
    assert f"t.yaml, line {line}:" in message
    assert "target '" in message


def test_duplicate_ids_and_reversed_window_are_rejected():
    with pytest.raises(TargetsError, match="declared twice"):
        parse_targets(BASE.replace("id: smart_service_share", "id: online_txn_share"))
    with pytest.raises(TargetsError, match="after it ends"):
        parse_targets(BASE.replace("{start: 2020-01, end: 2022-12}", "{start: 2023-01, end: 2022-12}"))


def test_warning_band_must_lie_on_the_passing_side():
    text = BASE.replace("test: {comparator: \">=\", threshold: 0.70}",
                        "test: {comparator: \">=\", threshold: 0.70}\n    warn_threshold: 0.65", 1)
    with pytest.raises(TargetsError, match="must lie above the threshold"):
        parse_targets(text)
    ok = parse_targets(BASE.replace("test: {comparator: \">=\", threshold: 0.70}",
                                    "test: {comparator: \">=\", threshold: 0.70}\n    warn_threshold: 0.75", 1))
    assert ok.targets[0].warn_fraction == Fraction(3, 4)


def test_missing_file_and_broken_yaml(tmp_path: Path):
    with pytest.raises(TargetsError, match="targets file not found"):
        load_targets(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("window: {start: 2020-01\ntargets: [", encoding="utf-8")
    with pytest.raises(TargetsError, match="not valid YAML") as caught:
        load_targets(broken)
    assert caught.value.where.line is not None
