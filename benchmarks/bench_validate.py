"""Vectorised validation against row-by-row Pydantic, on the same export, in one process.

    .venv/bin/python benchmarks/bench_validate.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_validate.py --rows 100000

The export is made with covidbank_kpi.sample, then a few hundred bad cells are injected (a
negative count, a float column holding 12.5-style values, a text column holding `abc` and
`12.5` next to valid `900`, ` 900 ` and `900.0`, a part above its whole, a part without its
whole, a bad month, a blank branch_id, and duplicate (period, branch_id) pairs) and it is
written as Parquet to benchmarks/data/ (cached).

  vectorised  covidbank_kpi.validate.validate(export), export = covidbank_kpi.io.read_export(path)
              (read_export is timed apart and shown too)
  row by row  covidbank_kpi.schema.BranchMonth.model_validate(row) for every row, plus the one
              rule a single row cannot see: duplicate (period, branch_id) keys, found with a
              Counter over the keys of rows whose period and branch_id are valid.
              The rows are dicts from the same raw table, export.table.to_pylist(); that
              conversion is NOT in the timed part (it is timed and shown on its own).

Both must find the same number of invalid rows, and the same rows; the goal is the vectorised
path at least 20x faster. Results go to benchmarks/results/validate.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

GOAL = 20.0


def make_export(rows: int, per_kind: int, seed: int) -> tuple[Path, dict[str, int]]:
    """A clean sample export with `per_kind` bad rows of each kind injected; cached as Parquet."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from covidbank_kpi import sample
    from covidbank_kpi.schema import PAIRS

    branches = max(1, round((rows - _common.MONTHS) / _common.MONTHS))
    path = _common.DATA / f"validate_{branches * _common.MONTHS + _common.MONTHS}_bad{per_kind}_seed{seed}.parquet"
    manifest = path.with_suffix(".json")
    if path.exists() and manifest.exists():
        return path, json.loads(manifest.read_text())["injected"]

    frame = sample.generate(branches, _common.MONTHS, "2020-01", _common.SEED)
    rng = np.random.default_rng(seed)
    # candidates: branch rows with every pair reported, so each injection breaks exactly one rule
    reported = np.ones(len(frame), dtype=bool)
    for pair in PAIRS:
        reported &= frame[pair.whole].notna().to_numpy()
    reported &= (frame["branch_id"] != sample.HEAD_OFFICE[0]).to_numpy()
    candidates = np.flatnonzero(reported)
    kinds = ["negative", "float-not-whole", "text-not-whole", "text-abc", "part-exceeds-whole",
             "pair-incomplete", "period-format", "branch-id-blank", "duplicate-key"]
    chosen = rng.choice(candidates, size=per_kind * (len(kinds) + 1), replace=False)  # duplicates take 2 rows
    picks = {kind: chosen[i * per_kind:(i + 1) * per_kind] for i, kind in enumerate(kinds)}
    dup_from, dup_to = picks["duplicate-key"], chosen[len(kinds) * per_kind:]

    def loc(rows_, column, values):
        frame.loc[frame.index[rows_], column] = values

    # a negative count (int column)
    loc(picks["negative"], "txn_online", -1 - frame["txn_online"].to_numpy()[picks["negative"]].astype(np.int64))
    # a float column: whole values are 45.0 (valid), a few are 45.5
    frame["staff_total"] = frame["staff_total"].astype("float64")
    loc(picks["float-not-whole"], "staff_total", frame["staff_total"].to_numpy()[picks["float-not-whole"]] + 0.5)
    # a text column: 900, ' 900 ', '900.0' are valid; '900.5' and 'abc' are not
    values = frame["consultations_total"].to_numpy(dtype="float64", na_value=np.nan)
    styled = rng.random(len(frame))
    frame["consultations_total"] = pd.Series(
        [None if v != v else f"{int(v)}.0" if s < 0.05 else f" {int(v)} " if s > 0.95 else str(int(v))
         for v, s in zip(values, styled)], index=frame.index, dtype="object")
    bad_text = frame["consultations_total"].to_numpy()[picks["text-not-whole"]]
    loc(picks["text-not-whole"], "consultations_total", [f"{str(v).strip().removesuffix('.0')}.5" for v in bad_text])
    loc(picks["text-abc"], "consultations_total", "abc")
    # part > whole, part without whole
    loc(picks["part-exceeds-whole"], "service_smart", frame["service_total"].to_numpy()[picks["part-exceeds-whole"]] + 1)
    loc(picks["pair-incomplete"], "campaign_converted", pd.NA)
    # keys
    loc(picks["period-format"], "period", "2020-13")
    loc(picks["branch-id-blank"], "branch_id", "  ")
    for column in ("period", "branch_id"):
        loc(dup_to, column, frame[column].to_numpy()[dup_from])

    injected = {kind: len(rows_) for kind, rows_ in picks.items()}
    injected["duplicate-key"] = 2 * per_kind  # both rows of each duplicate pair
    _common.DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp_" + path.name)
    # as pandas writes it: text as large_string
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    tmp.replace(path)
    manifest.write_text(json.dumps({"rows": len(frame), "injected": injected}, indent=1))
    return path, injected


def row_by_row(rows: list[dict]) -> tuple[int, set[int]]:
    """Pydantic per row, then duplicate keys over the rows whose key cells are valid."""
    from pydantic import ValidationError

    from covidbank_kpi.schema import BranchMonth, _month_of

    validate = BranchMonth.model_validate
    invalid: set[int] = set()
    keys: list[tuple[int, tuple[str, str]]] = []
    for i, row in enumerate(rows):
        try:
            model = validate(row)
            keys.append((i, (model.period, model.branch_id)))
        except ValidationError as error:
            invalid.add(i)
            fields = {e["loc"][0] for e in error.errors() if e["loc"]}
            if "period" not in fields and "branch_id" not in fields:
                # the key cells passed: take the key as the model's own before-validator reads it
                keys.append((i, (_month_of(row["period"]), row["branch_id"].strip())))
    seen = Counter(key for _, key in keys)
    invalid.update(i for i, key in keys if seen[key] > 1)
    return len(rows) - len(invalid), invalid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the export (default 1,000,000)")
    parser.add_argument("--bad-per-kind", type=int, default=40,
                        help="rows broken per kind of error (9 kinds, duplicates count 2 rows; default 40 -> 400 rows)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=_common.RESULTS / "validate.json")
    args = parser.parse_args(argv)

    from covidbank_kpi.io import read_export
    from covidbank_kpi.validate import validate

    machine = _common.machine_info()
    print(f"machine: {machine['cpu_model']}, {machine['cpu_count']} cpus, Python {machine['python']}", flush=True)
    t0 = time.perf_counter()
    path, injected = make_export(args.rows, args.bad_per_kind, args.seed)
    print(f"export: {path} (made or cached in {time.perf_counter() - t0:.1f} s)")
    print(f"injected bad rows: {sum(injected.values())} ({', '.join(f'{k} {v}' for k, v in injected.items())})")

    gc.collect()
    t0 = time.perf_counter()
    export = read_export(path)
    t_read = time.perf_counter() - t0
    n = export.rows
    t0 = time.perf_counter()
    validated = validate(export)
    t_cold = time.perf_counter() - t0  # the first call also pays for fresh memory pages and lazy imports
    warm = []
    for _ in range(3):
        t0 = time.perf_counter()
        validate(export)
        warm.append(time.perf_counter() - t0)
    t_vec = statistics.median(warm)
    report = validated.report
    vec_invalid_rows = set(int(x) for x in validated.rejected.column("_line").to_pylist())  # Parquet: row index
    print(f"rows: {n:,}")
    print(f"vectorised:  read_export {t_read:.2f} s, validate {t_vec:.2f} s (median of 3 after a first call of "
          f"{t_cold:.2f} s), {n / t_vec:,.0f} rows/s; valid {report.valid_rows:,}, invalid {report.invalid_rows:,}",
          flush=True)
    by_rule: dict[str, int] = {}
    for problem in report.problems:
        by_rule[f"{problem.rule}({problem.column})"] = problem.count
    print("  rules broken: " + ", ".join(f"{k} {v}" for k, v in by_rule.items()))

    t0 = time.perf_counter()
    rows = export.table.to_pylist()
    t_pylist = time.perf_counter() - t0
    print(f"to_pylist (not timed in row-by-row): {t_pylist:.2f} s", flush=True)
    gc.collect()
    gc.disable()  # as for the vectorised side: measure the work, not collections of a million dicts
    t0 = time.perf_counter()
    row_valid, row_invalid = row_by_row(rows)
    t_rows = time.perf_counter() - t0
    gc.enable()
    print(f"row by row:  model_validate + duplicate keys {t_rows:.2f} s ({n / t_rows:,.0f} rows/s); "
          f"valid {row_valid:,}, invalid {len(row_invalid):,}", flush=True)

    counts_agree = row_valid == report.valid_rows and len(row_invalid) == report.invalid_rows
    same_rows = row_invalid == vec_invalid_rows
    expected = sum(injected.values())
    ratio = t_rows / t_vec
    ratio_with_read = t_rows / (t_read + t_vec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"invalid rows: vectorised {report.invalid_rows:,}, row by row {len(row_invalid):,}, injected {expected:,}: "
          f"{'agree' if counts_agree else 'DISAGREE'}; same rows: {'yes' if same_rows else 'no'}")
    print(f"valid rows:   vectorised {report.valid_rows:,}, row by row {row_valid:,}")
    print(f"time:         vectorised {t_vec:.3f} s ({n / t_vec:,.0f} rows/s), row by row {t_rows:.2f} s "
          f"({n / t_rows:,.0f} rows/s)")
    print(f"speed-up:     {ratio:.1f}x (validate only), {ratio_with_read:.1f}x (read_export + validate), "
          f"{t_rows / t_cold:.1f}x against the first call; goal >= {GOAL:.0f}x: {'met' if ratio >= GOAL else 'NOT met'}")
    print(f"process peak RSS {peak:.0f} MiB (both paths, plus the {n:,} dicts)")
    if not same_rows:
        print(f"  rows only vectorised finds: {sorted(vec_invalid_rows - row_invalid)[:10]}")
        print(f"  rows only row-by-row finds: {sorted(row_invalid - vec_invalid_rows)[:10]}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "validate",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "file": str(path),
        "rows": n,
        "injected_bad_rows": injected,
        "vectorised": {"read_export_s": t_read, "validate_s": t_vec, "validate_first_call_s": t_cold,
                       "rows_per_s": n / t_vec,
                       "valid_rows": report.valid_rows, "invalid_rows": report.invalid_rows, "rules": by_rule},
        "row_by_row": {"seconds": t_rows, "rows_per_s": n / t_rows, "valid_rows": row_valid,
                       "invalid_rows": len(row_invalid), "to_pylist_s_not_timed": t_pylist},
        "counts_agree": counts_agree,
        "same_invalid_rows": same_rows,
        "speedup_validate_only": ratio,
        "speedup_including_read": ratio_with_read,
        "goal": GOAL,
        "goal_met": ratio >= GOAL,
        "process_peak_rss_mib": peak,
    }, indent=1), encoding="utf-8")
    print(f"written {args.out}")
    return 0 if counts_agree and same_rows else 1


if __name__ == "__main__":
    sys.exit(main())
