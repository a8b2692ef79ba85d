"""targets.yaml: every quantified target, its owner and its window, validated on load.

A typo in the file is an error that names the entry, the field and the YAML line, so the
person who keeps the file can fix it without reading a traceback.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError,
                      ValidationInfo, field_validator, model_validator)

from .errors import Location, TargetsError
from .schema import MEASURES, PAIRS, PERIOD_PATTERN

DEFAULT_TARGETS = "targets.yaml (built in)"


class Level(StrEnum):
    BANK = "bank"
    REGION = "region"
    BRANCH = "branch"


def _exact_decimal(value: Any) -> Any:
    """YAML reads 0.70 as a float; its shortest repr is what the user typed, so keep that."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


Month = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
Number = Annotated[Decimal, BeforeValidator(_exact_decimal)]
MeasureName = Annotated[str, BeforeValidator(lambda v: _known_measure(v))]


def _known_measure(name: Any) -> Any:
    if isinstance(name, str) and name not in MEASURES:
        close = difflib.get_close_matches(name, list(MEASURES), n=1)
        hint = f"; did you mean {close[0]!r}" if close else ""
        raise ValueError(f"{name!r} is not a measure column of the data contract{hint}")
    return name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str

    def in_lang(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Owner(_Model):
    department: Text
    contact: str | None = None


class Ratio(_Model):
    part: MeasureName
    whole: MeasureName

    @model_validator(mode="after")
    def _is_a_pair(self) -> Ratio:
        if not any(p.part == self.part and p.whole == self.whole for p in PAIRS):
            raise ValueError(f"{self.part} / {self.whole} is not a part/whole pair of the data contract")
        return self


class Metric(_Model):
    ratio: Ratio | None = None
    count: MeasureName | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Metric:
        if (self.ratio is None) == (self.count is None):
            raise ValueError("give exactly one of 'ratio: {part, whole}' or 'count: COLUMN'")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.ratio.part, self.ratio.whole) if self.ratio else (self.count,)


class Test(_Model):
    comparator: Literal[">=", ">", "<=", "<"]
    threshold: Number


class Window(_Model):
    start: Month
    end: Month

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start > self.end:
            raise ValueError(f"window starts ({self.start}) after it ends ({self.end})")
        return self

    def label(self) -> str:
        return f"{self.start}..{self.end}"


class Target(_Model):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    section: str
    name: Text
    measure: Text
    quote: str
    metric: Metric
    test: Test
    warn_threshold: Number | None = None
    unit: Text | None = None  # what the shortfall counts: "online transactions"
    levels: Annotated[list[Level], Field(min_length=1)]
    owner: Owner
    window: Window | None = None

    @field_validator("test", "warn_threshold")
    @classmethod
    def _fits_metric(cls, value, info: ValidationInfo):
        """A ratio's threshold is a fraction, a count's a whole number; checked per field, so an
        error points at the line that holds it."""
        metric = info.data.get("metric")
        number = value.threshold if isinstance(value, Test) else value
        if metric is None or number is None:
            return value
        label = "threshold" if isinstance(value, Test) else "warn_threshold"
        if metric.ratio is not None and not 0 <= number <= 1:
            raise ValueError(f"{label} {number} of a ratio must be a fraction between 0 and 1 (0.70 for 70%)")
        if metric.ratio is None and number != number.to_integral_value():
            raise ValueError(f"{label} {number} of a count must be a whole number")
        if label == "warn_threshold" and "test" in info.data:
            test = info.data["test"]
            higher_is_better = test.comparator.startswith(">")
            if (number <= test.threshold) if higher_is_better else (number >= test.threshold):
                side = "above" if higher_is_better else "below"
                raise ValueError(f"warn_threshold {number} must lie {side} the threshold {test.threshold}: "
                                 "it marks passing values that are close to failing")
        return value

    @property
    def is_ratio(self) -> bool:
        return self.metric.ratio is not None

    @property
    def threshold(self) -> Fraction:
        return Fraction(self.test.threshold)

    @property
    def warn_fraction(self) -> Fraction | None:
        return None if self.warn_threshold is None else Fraction(self.warn_threshold)


class TargetSet(_Model):
    version: Literal[1] = 1
    window: Window
    targets: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> TargetSet:
        seen: set[str] = set()
        for target in self.targets:
            if target.id in seen:
                raise ValueError(f"target id {target.id!r} is declared twice")
            seen.add(target.id)
        return self

    def window_of(self, target: Target) -> Window:
        return target.window or self.window

    def get(self, target_id: str) -> Target:
        for target in self.targets:
            if target.id == target_id:
                return target
        raise KeyError(target_id)


def default_targets_path() -> Path:
    return Path(str(resources.files("covidbank_kpi") / "data" / "targets.yaml"))


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read and validate a targets file; the built-in one when no path is given."""
    source = Path(path) if path is not None else default_targets_path()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TargetsError("targets file not found", where=Location(path=str(source)),
                           hint="Give an existing file with --targets, or leave it out to use the built-in targets") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetsError(f"cannot read the targets file ({exc})", where=Location(path=str(source))) from None
    return parse_targets(text, str(source))


def parse_targets(text: str, source: str = "<targets>") -> TargetSet:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TargetsError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            where=Location(path=source, line=mark.line + 1 if mark else None),
        ) from None
    if not isinstance(data, dict):
        raise TargetsError("expected a mapping with 'window' and 'targets'", where=Location(path=source))
    try:
        return TargetSet.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise TargetsError(
            f"{_describe_loc(data, loc)}: {error['msg'].removeprefix('Value error, ')}",
            where=Location(path=source, line=_line_of(node, loc)),
            hint=f"Fix the entry and run again ({len(exc.errors())} problem(s) in all)",
        ) from None


def _describe_loc(data: dict, loc: tuple) -> str:
    """'target online_txn_share, field test.threshold' rather than 'targets.0.test.threshold'."""
    if len(loc) >= 2 and loc[0] == "targets" and isinstance(loc[1], int):
        entries = data.get("targets") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        name = entry.get("id") if isinstance(entry, dict) else None
        label = f"target {name!r}" if name else f"target #{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{label}, field {rest!r}" if rest else label
    return "field " + repr(".".join(str(p) for p in loc)) if loc else "the file"


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """Follow a Pydantic error location through the YAML node tree to a 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def targets_json_schema() -> dict[str, Any]:
    """JSON Schema of targets.yaml, so editors can check the file as it is typed."""
    return TargetSet.model_json_schema()
