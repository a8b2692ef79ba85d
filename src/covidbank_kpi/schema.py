"""The data contract of the branch-month export, declared once as Pydantic models.

`BranchMonth` is the one place where columns, types and rules live. The vectorised
validator (validate.py) reads its rules from here: which columns are required, which are
whole-number measures, which measures pair as part and whole, and whether each is a flow
or a stock. Row-by-row validation with the model is the reference the vectorised checks
are tested against.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Kind(StrEnum):
    """Flows add up over months; a stock is a month-end level, so the last month stands."""

    FLOW = "flow"
    STOCK = "stock"


def _month_of(value: Any) -> Any:
    """Dates, timestamps and YYYY-MM-DD text are taken as their month."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m")
    if isinstance(value, str):
        text = value.strip()
        if _DATE_TEXT.match(text):
            try:
                return dt.date.fromisoformat(text).strftime("%Y-%m")
            except ValueError:
                return text
        return text
    return value


def _whole_number(value: Any) -> Any:
    """`12` and `12.0` are the same whole number; a blank cell is not reported (None)."""
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        match = re.fullmatch(r"([+-]?[0-9]+)(?:\.0*)?", text)
        return int(match.group(1)) if match else text
    if isinstance(value, float):
        if value != value:  # NaN is how some writers spell null
            return None
        if value.is_integer():
            return int(value)
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


Period = Annotated[str, BeforeValidator(_month_of), StringConstraints(pattern=PERIOD_PATTERN)]
Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
MAX_COUNT = 10**15 - 1  # fifteen digits: beyond that a count is a broken export (and float sums stay exact)
Count = Annotated[Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)] | None, BeforeValidator(_whole_number)]


def _measure(section: str, kind: Kind, *, whole: str | None = None, description: str) -> Any:
    extra: dict[str, Any] = {"x-section": section, "x-kind": kind.value}
    if whole:
        extra["x-whole"] = whole
    return Field(description=description, json_schema_extra=extra)


class BranchMonth(BaseModel):
    """One row of the export: one branch, one month."""

    model_config = ConfigDict(extra="allow", frozen=True, title="Branch-month export row")

    period: Period = Field(description="Month, YYYY-MM (a date or YYYY-MM-DD is taken as its month).",
                           json_schema_extra={"pattern": PERIOD_PATTERN, "examples": ["2020-03"]})
    branch_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="Branch identifier, kept as text: 0012 stays 0012."
    )
    branch_name: Text = Field(None, description="Branch name (optional).")
    region: Text = Field(None, description="Region, a grouping level (optional).")

    txn_online: Count = _measure("二.1", Kind.FLOW, whole="txn_total", description="Transactions done online.")
    txn_total: Count = _measure("二.1", Kind.FLOW, description="Customer transactions in the month.")
    health_checks_passed: Count = _measure(
        "二.2", Kind.FLOW, whole="health_checks_total", description="Screenings done to protocol."
    )
    health_checks_total: Count = _measure("二.2", Kind.FLOW, description="Screenings at the branch entrance.")
    relief_resolved: Count = _measure(
        "二.3", Kind.STOCK, whole="relief_affected", description="Affected customers whose funding problem is solved."
    )
    relief_affected: Count = _measure(
        "二.3", Kind.STOCK, description="Customers needing loan relief, cumulative, at month end."
    )
    staff_trained: Count = _measure(
        "二.4", Kind.STOCK, whole="staff_total", description="Staff who completed and passed the training."
    )
    staff_total: Count = _measure("二.4", Kind.STOCK, description="Headcount at month end.")
    survey_satisfied: Count = _measure(
        "二.5", Kind.FLOW, whole="survey_responses", description="Responses 'satisfied' or 'very satisfied'."
    )
    survey_responses: Count = _measure("二.5", Kind.FLOW, description="Satisfaction survey responses.")
    consultations_online: Count = _measure(
        "三.1", Kind.FLOW, whole="consultations_total", description="Sessions held by video, voice or chat."
    )
    consultations_total: Count = _measure("三.1", Kind.FLOW, description="One-to-one advisory sessions.")
    literacy_events_online: Count = _measure("三.2", Kind.FLOW, description="Online literacy events held.")
    literacy_participants: Count = _measure("三.2", Kind.FLOW, description="Customers taking part in them.")
    care_callbacks_successful: Count = _measure(
        "三.3", Kind.FLOW, whole="care_callbacks_attempted", description="Callbacks that reached and served."
    )
    care_callbacks_attempted: Count = _measure(
        "三.3", Kind.FLOW, description="Callbacks to elderly and special-group customers."
    )
    campaign_converted: Count = _measure(
        "三.4", Kind.FLOW, whole="campaign_targeted", description="Targeted customers who bought."
    )
    campaign_targeted: Count = _measure("三.4", Kind.FLOW, description="Customers targeted by data analysis.")
    service_smart: Count = _measure(
        "三.5", Kind.FLOW, whole="service_total", description="Interactions handled by smart services."
    )
    service_total: Count = _measure("三.5", Kind.FLOW, description="Service interactions.")

    @model_validator(mode="after")
    def _pairs_hold(self) -> BranchMonth:
        for pair in PAIRS:
            part, whole = getattr(self, pair.part), getattr(self, pair.whole)
            if (part is None) != (whole is None):
                raise ValueError(f"{pair.part} and {pair.whole} must both be reported or both be blank")
            if part is not None and part > whole:
                raise ValueError(f"{pair.part} ({part}) exceeds its whole {pair.whole} ({whole})")
        return self


@dataclass(frozen=True)
class Pair:
    part: str
    whole: str
    kind: Kind


def _extra(name: str) -> dict[str, Any]:
    return BranchMonth.model_fields[name].json_schema_extra or {}


#: Every measure column, in contract order, with its kind.
MEASURES: dict[str, Kind] = {
    name: Kind(_extra(name)["x-kind"]) for name in BranchMonth.model_fields if "x-kind" in _extra(name)
}
#: Part/whole pairs, from the `x-whole` of each part.
PAIRS: tuple[Pair, ...] = tuple(
    Pair(name, _extra(name)["x-whole"], MEASURES[name]) for name in MEASURES if "x-whole" in _extra(name)
)
#: Columns that must be present in every export (values may still be blank for measures).
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    name for name, field in BranchMonth.model_fields.items() if field.is_required()
)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(
    name for name, field in BranchMonth.model_fields.items() if not field.is_required()
)
KEY = ("period", "branch_id")
CONTRACT_COLUMNS: tuple[str, ...] = tuple(BranchMonth.model_fields)


def json_schema() -> dict[str, Any]:
    """The contract as JSON Schema, for the teams that build the exports."""
    return BranchMonth.model_json_schema()
