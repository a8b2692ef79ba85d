"""Evaluating every target over the valid rows: one group-by per level, exact verdicts.

A ratio over a group is sum(part) / sum(whole) over the rows that reported the pair, never
the mean of the rows' ratios. Verdicts compare integers (part * q against p * whole for a
threshold p/q), so no float rounding can flip a pass into a fail at the boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from .errors import UsageError
from .schema import MEASURES, Kind
from .targets import Level, Target, TargetSet

STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "no_data", "not_applicable")
SPANS = ("month", "quarter", "year", "window")
NO_REGION = "(no region)"
_SAFE = 2**62


@dataclass(frozen=True)
class Result:
    """One target, one period, one scope: the verdict and the numbers behind it."""

    target: str
    period: str
    level: str
    scope: str
    status: str  # one of STATUSES
    actual: float | None
    threshold: float
    comparator: str
    numerator: int | None
    denominator: int | None
    shortfall: int | None


@dataclass(frozen=True, eq=False)
class Evaluation:
    """All results of one run, held column-wise (one row per result) with the targets used."""

    results: pd.DataFrame
    targets: TargetSet
    level: Level
    over: str
    rows_used: int

    def records(self, frame: pd.DataFrame | None = None) -> list[Result]:
        """Results as objects, for the formats that show them one by one (all, or those of `frame`)."""
        frame = self.results if frame is None else frame
        columns = [frame[name].to_numpy(dtype=object, na_value=None) if name in _NULLABLE
                   else frame[name].astype(object).to_numpy() for name in _COLUMNS]
        actual = frame["actual"].to_numpy()
        columns[5] = np.where(np.isnan(actual), None, actual).tolist()
        return [Result(*row) for row in zip(*columns)]

    def summary(self) -> dict[str, int]:
        counts = self.results["status"].value_counts()
        return {status: int(counts.get(status, 0)) for status in STATUSES}

    def exit_code(self, fail_on: str = "fail") -> int:
        """1 when a result has a status the caller fails on, else 0."""
        summary = self.summary()
        if fail_on == "never":
            return 0
        failing = summary["fail"] + (summary["warn"] if fail_on == "warn" else 0)
        return 1 if failing else 0


@dataclass(frozen=True)
class Driver:
    """A branch that pulled a failing bank-level result down: its own shortfall against the target."""

    target: str
    period: str
    branch_id: str
    branch_name: str | None
    region: str | None
    actual: float | None
    shortfall: int


def drivers(frame: pd.DataFrame, evaluation: Evaluation, top: int = 5) -> tuple[Driver, ...]:
    """For each failing bank-level ratio result, the branches with the largest shortfall (四.3's feedback)."""
    results = evaluation.results
    failing = results[(results["level"] == "bank") & (results["status"] == "fail") & results["denominator"].notna()]
    if failing.empty:
        return ()
    if evaluation.over != "month":  # a span: judge the branches over the same spans
        by_branch = evaluate(frame, evaluation.targets, by=Level.BRANCH, over=evaluation.over).results
        rows = by_branch.merge(failing[["target", "period"]].astype(str), on=["target", "period"])
        rows = rows.assign(branch_id=rows["scope"].astype(str), period=rows["period"].astype(str),
                           target=rows["target"].astype(str))[["target", "period", "branch_id", "actual", "shortfall"]]
        rows = rows[rows["shortfall"].notna() & (rows["shortfall"] > 0)]
        rows = rows.sort_values(["target", "period", "shortfall", "branch_id"], ascending=[True, True, False, True])
        rows = rows.groupby(["target", "period"], sort=False).head(top)
    else:  # a month: each valid row is one branch's month, so judge the rows of the failing months
        rows = _month_drivers(frame, evaluation.targets, failing, top)
    names = frame.drop_duplicates("branch_id", keep="last").set_index("branch_id")[["branch_name", "region"]]
    order = {t.id: i for i, t in enumerate(evaluation.targets.targets)}
    out = []
    for row in rows.itertuples(index=False):  # at most `top` per failing result
        name = names["branch_name"].get(row.branch_id)
        region = names["region"].get(row.branch_id)
        out.append(Driver(row.target, row.period, row.branch_id, None if pd.isna(name) else name,
                          None if pd.isna(region) else region, float(row.actual), int(row.shortfall)))
    out.sort(key=lambda d: (d.period, order[d.target], -d.shortfall, d.branch_id))
    return tuple(out)


def _month_drivers(frame: pd.DataFrame, targets: TargetSet, failing: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` branches with the largest shortfall in each failing (target, month): one month's
    rows are a contiguous slice once the rows are ordered by month."""
    period_codes, periods = pd.factorize(frame["period"], sort=True)
    order = np.argsort(period_codes, kind="stable")
    bounds = np.searchsorted(period_codes[order], np.arange(len(periods) + 1))
    branch_ids = frame["branch_id"].to_numpy(dtype=object)[order]
    found: dict[str, list] = {"target": [], "period": [], "branch_id": [], "actual": [], "shortfall": []}
    for target_id, months in failing.groupby("target", observed=True)["period"]:
        target = targets.get(str(target_id))
        part, whole = target.metric.ratio.part, target.metric.ratio.whole
        nums = frame[part].to_numpy(dtype=np.int64, na_value=0)[order]
        dens = frame[whole].to_numpy(dtype=np.int64, na_value=0)[order]
        for month in periods.get_indexer(months.astype(str)):
            rows = np.arange(bounds[month], bounds[month + 1])
            rows = rows[dens[rows] > 0]
            num, den = nums[rows], dens[rows]
            short = np.where(_compare(num, den, target.threshold, target.test.comparator), 0,
                             _shortfall(num, den, target.threshold, target.test.comparator))
            cut = np.partition(short, len(short) - top)[len(short) - top] if len(short) > top else 0
            keep = np.flatnonzero(short >= max(cut, 1))  # the top shortfalls, with every tie at the cut
            rows, num, den, short = rows[keep], num[keep], den[keep], short[keep]
            for k in sorted(range(len(rows)), key=lambda k: (-short[k], branch_ids[rows[k]]))[:top]:
                if short[k] > 0:
                    found["target"].append(str(target_id))
                    found["period"].append(periods[month])
                    found["branch_id"].append(branch_ids[rows[k]])
                    found["actual"].append(num[k] / den[k])
                    found["shortfall"].append(int(short[k]))
    return pd.DataFrame(found)


def evaluate(
    frame: pd.DataFrame,
    targets: TargetSet,
    *,
    by: Level | str = Level.BANK,
    period: str | None = None,
    over: str = "month",
) -> Evaluation:
    """Evaluate every target for every period (or span) in `frame` at one level.

    Results come target by target (in targets.yaml's order), each sorted by period and scope."""
    level = Level(by)
    if over not in SPANS:
        raise UsageError(f"unknown span {over!r}", hint=f"Use one of: {', '.join(SPANS)}")
    if period is not None:
        frame = _one_period(frame, period)
    scope_column = {Level.BANK: None, Level.REGION: "region", Level.BRANCH: "branch_id"}[level]
    months = frame.assign(scope=_scopes(frame, scope_column))
    if over == "month":
        columns = tuple(dict.fromkeys(c for t in targets.targets for c in t.metric.columns))
        # the key (period, branch_id) is unique in valid rows: per branch, each row is its own group
        agg = _sums(months, ["period", "scope"], columns, unique=level is Level.BRANCH)
        pieces = [_judge_months(agg, targets, t, level) for t in targets.targets]
    else:
        months = months.assign(period=months["period"].astype("str"))  # spans compare months as text
        pieces = [_evaluate_spans(months, targets, t, level, over) for t in targets.targets]
    results = _concat(pieces)
    return Evaluation(results, targets, level, over, len(frame))


def _one_period(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise UsageError(f"--period {period!r} is not a month", hint="Give it as YYYY-MM, for example 2020-03")
    chosen = frame[frame["period"] == period]
    if chosen.empty:
        present = sorted(frame["period"].unique())
        span = f"{present[0]} to {present[-1]}" if present else "no months"
        raise UsageError(f"the file has no rows for {period}", hint=f"It holds {span}")
    return chosen


def _scopes(frame: pd.DataFrame, column: str | None) -> pd.Categorical:
    """The scope of each row as a categorical: 'bank', the region (a blank one is its own group,
    never dropped) or the branch_id."""
    if column is None:
        return pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=["bank"])
    values = frame[column].astype("category").array
    if values.isna().any():
        values = values.add_categories([NO_REGION]).fillna(NO_REGION)
    return values


Aggregate = dict  # key columns as Categoricals, and per measure column "<c>__sum" and "<c>__n" as int64 arrays


def _sums(rows: pd.DataFrame, keys: list[str], columns: tuple[str, ...], unique: bool = False) -> Aggregate:
    """sum and count of reported cells per group, sorted by the keys; blanks are left out, never read as 0."""
    if unique:  # each row is its own group: no group-by, just an order
        cats = [pd.Categorical(rows[k].to_numpy(dtype=object)) if not isinstance(rows[k].dtype, pd.CategoricalDtype)
                else rows[k].array for k in keys]
        order = np.lexsort([c.codes for c in reversed(cats)])
        out: Aggregate = {k: pd.Categorical.from_codes(c.codes[order], categories=c.categories)
                          for k, c in zip(keys, cats)}
        for column in columns:
            values = rows[column].array
            out[f"{column}__sum"] = values.to_numpy(dtype=np.int64, na_value=0)[order]
            out[f"{column}__n"] = (~values.isna())[order].astype(np.int64)
        return out
    grouped = rows.groupby(keys, sort=True, observed=True)[list(columns)]
    sums = grouped.sum(min_count=0)
    counts = grouped.count()
    out = {k: pd.Categorical(sums.index.get_level_values(k).astype(str)) for k in keys}
    for column in columns:
        out[f"{column}__sum"] = sums[column].to_numpy(dtype=np.int64, na_value=0)
        out[f"{column}__n"] = counts[column].to_numpy(dtype=np.int64)
    return out


def _evaluate_spans(months: pd.DataFrame, targets: TargetSet, target: Target, level: Level, over: str) -> pd.DataFrame:
    """Flows are summed over the span; stocks take the span's last month; a per-month count
    passes over a span only if every month of it passes."""
    window = targets.window_of(target)
    spans = span_labels(months["period"], over, window.label())
    rows = months.assign(span=spans)
    if not target.is_ratio:
        agg = _sums(months, ["period", "scope"], target.metric.columns)
        return _count_over_span(pd.DataFrame(_judge_months(agg, targets, target, level)), over, window.label())
    columns = target.metric.columns
    kind = MEASURES[columns[0]]
    if kind is Kind.STOCK:
        last = rows.groupby("span")["period"].transform("max")
        rows = rows[rows["period"] == last]
    agg = _sums(rows, ["span", "scope"], columns)
    first_last = rows.groupby("span")["period"].agg(["min", "max"])
    spans = np.asarray(agg["span"], dtype=object)
    outside = ((first_last["min"].reindex(spans).to_numpy(dtype=object) < window.start)
               | (first_last["max"].reindex(spans).to_numpy(dtype=object) > window.end))
    return _judge(agg, target, level, agg["span"], outside)


def span_labels(periods: pd.Series, over: str, window_label: str) -> pd.Series:
    """2020-03 -> 2020-Q1, 2020, or the window's label; months keep their own label."""
    text = periods.astype("str")
    if over == "month":
        return text
    year = text.str.slice(0, 4)
    if over == "year":
        return year
    if over == "quarter":
        quarter = ((text.str.slice(5, 7).astype("int64") - 1) // 3 + 1).astype("str")
        return year + "-Q" + quarter
    start, end = window_label.split("..")
    inside = (text >= start) & (text <= end)
    return text.where(~inside, window_label)


def _count_over_span(monthly: pd.DataFrame, over: str, window_label: str) -> pd.DataFrame:
    monthly = monthly.assign(span=span_labels(monthly["period"], over, window_label))
    rank = {"fail": 4, "warn": 3, "pass": 2, "no_data": 1, "not_applicable": 0}
    judged = monthly[monthly["status"].isin(["pass", "warn", "fail"])]
    base = monthly.groupby(["span", "scope"], sort=True).agg(
        target=("target", "first"), level=("level", "first"), threshold=("threshold", "first"),
        comparator=("comparator", "first"),
        status=("status", lambda s: max(s, key=rank.__getitem__)),
    )
    if not judged.empty:
        totals = judged.groupby(["span", "scope"]).agg(
            numerator=("numerator", "sum"), actual=("actual", "min"), shortfall=("shortfall", "sum"))
        base = base.join(totals)
    for column in ("numerator", "shortfall"):
        if column not in base:
            base[column] = pd.NA
        base[column] = base[column].astype("Int64")
    if "actual" not in base:
        base["actual"] = np.nan
    base["shortfall"] = base["shortfall"].where(base["status"] == "fail", pd.NA)
    base = base.reset_index().rename(columns={"span": "period"})
    base["denominator"] = pd.array([pd.NA] * len(base), dtype="Int64")
    return base[_COLUMNS]


_COLUMNS = ["target", "period", "level", "scope", "status", "actual", "threshold", "comparator",
            "numerator", "denominator", "shortfall"]
_NULLABLE = {"numerator", "denominator", "shortfall"}


def _concat(pieces: list[dict | pd.DataFrame]) -> pd.DataFrame:
    """One frame; text columns stay categorical, so ten million results fit in memory."""
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in _COLUMNS})
    from pandas.api.types import union_categoricals

    columns = {}
    for name in _COLUMNS:
        parts = [p[name].array if isinstance(p, pd.DataFrame) else p.pop(name) for p in pieces]  # pop: free as we go
        if any(isinstance(p, pd.Categorical) for p in parts):
            columns[name] = union_categoricals(
                [p if isinstance(p, pd.Categorical) else pd.Categorical(np.asarray(p, dtype=object)) for p in parts])
        elif isinstance(parts[0], np.ndarray) or parts[0].dtype.kind == "f":
            columns[name] = np.concatenate([np.asarray(p) for p in parts])
        else:
            columns[name] = pd.arrays.IntegerArray(
                np.concatenate([p.to_numpy(dtype=np.int64, na_value=0) for p in parts]),
                np.concatenate([np.asarray(p.isna()) for p in parts]))
        del parts
    return pd.DataFrame(columns, copy=False)


def _judge_months(agg: Aggregate, targets: TargetSet, target: Target, level: Level) -> dict:
    period = agg["period"]
    window = targets.window_of(target)
    months = period.categories.to_numpy(dtype=object)
    outside = ((months < window.start) | (months > window.end))[period.codes]
    return _judge(agg, target, level, period, outside)


_STATUS_CODE = {status: code for code, status in enumerate(STATUSES)}


def _constant(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def _judge(agg: Aggregate, target: Target, level: Level, label: pd.Categorical, outside: np.ndarray) -> dict:
    """Statuses, actual values and shortfalls for one target over aggregated groups."""
    n = len(label)
    threshold = target.threshold
    wrong_level = level not in target.levels
    if target.is_ratio:
        part, whole = target.metric.ratio.part, target.metric.ratio.whole
        num = agg[f"{part}__sum"]
        den = agg[f"{whole}__sum"]
        no_data = (agg[f"{whole}__n"] == 0) | (den == 0)
        den = np.where(no_data, 1, den)
    else:
        num = agg[f"{target.metric.count}__sum"]
        den = np.ones(n, dtype=np.int64)
        no_data = agg[f"{target.metric.count}__n"] == 0

    meets = _compare(num, den, threshold, target.test.comparator)
    status = np.where(meets, _STATUS_CODE["pass"], _STATUS_CODE["fail"]).astype(np.int8)
    warn = target.warn_fraction
    if warn is not None:
        # a pass on the failing side of the warning line is a warn
        status[meets & ~_compare(num, den, warn, target.test.comparator)] = _STATUS_CODE["warn"]
    status[no_data] = _STATUS_CODE["no_data"]
    status[outside | wrong_level] = _STATUS_CODE["not_applicable"]
    failing = status == _STATUS_CODE["fail"]
    blank = no_data | wrong_level

    actual = num / den
    actual[blank] = np.nan
    shortfall = np.zeros(n, dtype=np.int64)
    if failing.any():
        shortfall[failing] = _shortfall(num[failing], den[failing], threshold, target.test.comparator)
    return {
        "target": _constant(target.id, n),
        "period": label,
        "level": _constant(level.value, n),
        "scope": agg["scope"],
        "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
        "actual": actual,
        "threshold": np.full(n, float(threshold)),
        "comparator": _constant(target.test.comparator, n),
        "numerator": pd.arrays.IntegerArray(num, blank.copy()),
        "denominator": pd.arrays.IntegerArray(den, blank | (not target.is_ratio)),
        "shortfall": pd.arrays.IntegerArray(shortfall, ~failing),
    }


def _ints(values: np.ndarray, factor: int) -> np.ndarray:
    """values * factor, exactly: int64 while it cannot overflow, Python integers beyond."""
    if len(values) and int(np.abs(values).max()) * abs(factor) >= _SAFE:
        return values.astype(object) * factor
    return values * factor


def _compare(num: np.ndarray, den: np.ndarray, threshold: Fraction, comparator: str) -> np.ndarray:
    """num/den <comparator> p/q, as num*q <comparator> p*den in integers."""
    left = _ints(num, threshold.denominator)
    right = _ints(den, threshold.numerator)
    result = {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[comparator]
    return np.asarray(result, dtype=bool)


def _shortfall(num: np.ndarray, den: np.ndarray, threshold: Fraction, comparator: str) -> np.ndarray:
    """How many more parts out of the same whole meet the target (fewer, for <= and <)."""
    p, q = threshold.numerator, threshold.denominator
    scaled = _ints(den, p)  # p * den; the boundary part count is p * den / q
    if comparator == ">=":
        need = -((-scaled) // q)  # ceil
        out = need - num
    elif comparator == ">":
        out = scaled // q + 1 - num
    elif comparator == "<=":
        out = num - scaled // q
    else:
        out = num - (-((-scaled) // q) - 1)
    return np.asarray(out, dtype=object).astype(np.int64) if out.dtype == object else out
