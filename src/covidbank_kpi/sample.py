"""A seeded generator of realistic branch-month exports, for the demo, the tests and benchmarks.

The bank has branches in several regions and a head-office row that carries the online
literacy events. Rates drift over the year the way an epidemic programme would: online
share climbs past its target, satisfaction hovers around it, conversion and smart services fall short. So the
demo shows passes and fails. Everything is vectorised: a million rows take about a second.

    python -m covidbank_kpi.sample sample_data            # the committed demo files
    python -m covidbank_kpi.sample out --branches 16000 --months 60 --formats parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import MEASURES

REGIONS = {
    "华北": ["北京朝阳", "北京海淀", "天津和平", "石家庄长安", "太原迎泽", "呼和浩特新城"],
    "华东": ["上海浦东", "上海静安", "南京鼓楼", "杭州西湖", "苏州工业园区", "合肥蜀山", "济南历下", "福州鼓楼"],
    "华南": ["广州天河", "深圳福田", "深圳南山", "东莞南城", "南宁青秀", "海口龙华"],
    "华中": ["武汉江汉", "武汉洪山", "长沙岳麓", "郑州金水", "南昌东湖"],
    "西南": ["成都锦江", "重庆渝中", "昆明五华", "贵阳云岩"],
    "西北": ["西安雁塔", "兰州城关", "银川兴庆", "乌鲁木齐天山"],
}
HEAD_OFFICE = ("0000", "总行营业部", "总行")

# (part, whole, typical whole per branch-month, rate at the first month, rate at the last)
_PAIRS = [
    ("txn_online", "txn_total", 42000, 0.58, 0.79),
    ("health_checks_passed", "health_checks_total", 5200, 0.955, 0.985),
    ("relief_resolved", "relief_affected", 320, 0.66, 0.86),
    ("staff_trained", "staff_total", 45, 0.78, 0.97),
    ("survey_satisfied", "survey_responses", 260, 0.835, 0.862),
    ("consultations_online", "consultations_total", 900, 0.42, 0.66),
    ("care_callbacks_successful", "care_callbacks_attempted", 140, 0.80, 0.86),
    ("campaign_converted", "campaign_targeted", 1500, 0.22, 0.285),
    ("service_smart", "service_total", 18000, 0.36, 0.49),
]


def branch_directory(branches: int) -> pd.DataFrame:
    """Branch ids (zero-padded text), names and regions; the named branches first, then more."""
    named = [(region, f"{city}支行") for region, cities in REGIONS.items() for city in cities]
    regions = list(REGIONS)
    rows = []
    for i in range(branches):
        region, name = named[i] if i < len(named) else (regions[i % len(regions)], f"第{i + 1}支行")
        rows.append((f"{i + 1:04d}" if branches < 10000 else f"{i + 1:05d}", name, region))
    return pd.DataFrame(rows, columns=["branch_id", "branch_name", "region"])


def months(start: str, count: int) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, periods=count, freq="M")]


def generate(branches: int = 40, months_count: int = 12, start: str = "2020-01", seed: int = 2020,
             blank_rate: float = 0.01) -> pd.DataFrame:
    """One row per branch per month plus a head-office row per month, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    directory = branch_directory(branches)
    periods = months(start, months_count)
    b, m = len(directory), len(periods)
    n = b * m
    month_index = np.tile(np.arange(m), b)
    progress = month_index / max(m - 1, 1)
    frame = pd.DataFrame({
        "period": np.tile(np.array(periods, dtype=object), b),
        "branch_id": np.repeat(directory["branch_id"].to_numpy(), m),
        "branch_name": np.repeat(directory["branch_name"].to_numpy(), m),
        "region": np.repeat(directory["region"].to_numpy(), m),
    })
    size = np.repeat(rng.lognormal(0.0, 0.45, b), m)  # big and small branches
    skill = np.repeat(rng.normal(0.0, 0.025, b), m)  # some branches run better than others
    for part, whole, typical, first, last in _PAIRS:
        totals = rng.poisson(typical * size).astype(np.int64)
        rate = np.clip(first + (last - first) * progress + skill + rng.normal(0, 0.01, n), 0, 1)
        parts = rng.binomial(totals, rate)
        frame[part] = pd.array(parts, dtype="Int64")
        frame[whole] = pd.array(totals, dtype="Int64")
        missing = rng.random(n) < blank_rate  # not reported: both blank, never zero
        frame.loc[missing, [part, whole]] = pd.NA
    frame["literacy_events_online"] = pd.array([pd.NA] * n, dtype="Int64")
    frame["literacy_participants"] = pd.array([pd.NA] * n, dtype="Int64")
    head = pd.DataFrame({
        "period": periods, "branch_id": HEAD_OFFICE[0], "branch_name": HEAD_OFFICE[1], "region": HEAD_OFFICE[2],
    })
    for column in MEASURES:
        head[column] = pd.array([pd.NA] * m, dtype="Int64")
    events = np.clip(rng.poisson(2.6, m), 1, None)
    events[1] = 1  # February 2020: the first month of lockdown, one event only
    head["literacy_events_online"] = pd.array(events, dtype="Int64")
    head["literacy_participants"] = pd.array(events * rng.integers(180, 330, m), dtype="Int64")
    frame = pd.concat([head, frame], ignore_index=True)
    return frame.sort_values(["period", "branch_id"], kind="stable").reset_index(drop=True)


def write(frame: pd.DataFrame, folder: Path, stem: str = "monthly", formats: tuple[str, ...] = ("csv", "parquet")
          ) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "csv" in formats:
        path = folder / f"{stem}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    if "parquet" in formats:
        path = folder / f"{stem}.parquet"
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--branches", type=int, default=40)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2020-01")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--stem", default="monthly")
    parser.add_argument("--formats", default="csv,parquet")
    args = parser.parse_args(argv)
    frame = generate(args.branches, args.months, args.start, args.seed)
    for path in write(frame, args.folder, args.stem, tuple(args.formats.split(","))):
        print(f"wrote {path} ({len(frame):,} rows)")


if __name__ == "__main__":
    main()
