"""End-to-end benchmark: `kpi evaluate FILE --by branch --format json` against the same work in DuckDB SQL.

    .venv/bin/pip install duckdb                       # benchmark-only, not a project dependency
    .venv/bin/python benchmarks/bench_end_to_end.py                    # 100k and 1M rows, 5 runs each
    .venv/bin/python benchmarks/bench_end_to_end.py --sizes 5m --runs 1

For each export (Parquet at every size, CSV at 1M), whole processes are run alternately,
A B A B ..., after one warm-up run of each:

  A  .venv/bin/kpi evaluate FILE --by branch --format json > /dev/null
  B  python benchmarks/duckdb_equivalent.py FILE --branch-out /dev/null > /dev/null

Each child's wall time (time.perf_counter around spawn and reap) and peak RSS (ru_maxrss from
os.wait4, KiB on Linux) are recorded. A watchdog kills a child whose RSS passes --mem-limit-gib
or whose wall time passes --timeout, so one runaway run cannot take the machine down; a killed
or crashed kpi is reported as such, not retried.

Before the timed runs, each file is evaluated once at bank level by both (`kpi evaluate FILE
--format json` and duckdb_equivalent.py --out): (target, period, status, numerator, denominator)
must be identical, else this script exits 1. Exit 2 when a run failed (crash, kill, exit code
other than 0 or 1; kpi exits 1 when a target fails, which is normal).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

BIN = Path(sys.executable).parent
KPI = str(BIN / "kpi")
DUCKDB_SCRIPT = str(Path(__file__).resolve().parent / "duckdb_equivalent.py")
COMPARED = ("target", "period", "status", "numerator", "denominator")


# --- running one child --------------------------------------------------------------------

def _rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run(argv: list[str], *, stdout_path: str | None = None, timeout: float, mem_limit_kib: int) -> dict:
    """Spawn argv, reap it with os.wait4; wall seconds, peak RSS and exit status of that one process."""
    killed: list[str] = []
    with tempfile.TemporaryFile() as err, open(stdout_path or os.devnull, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        done = threading.Event()

        def watchdog() -> None:
            while not done.wait(0.1):
                rss = _rss_kib(proc.pid)
                elapsed = time.perf_counter() - started
                reason = None
                if rss is not None and rss > mem_limit_kib:
                    reason = f"RSS {rss / 2**20:.1f} GiB passed the {mem_limit_kib / 2**20:.0f} GiB limit"
                elif elapsed > timeout:
                    reason = f"still running after the {timeout:.0f} s timeout"
                if reason:
                    killed.append(f"killed by the benchmark at {elapsed:.1f} s: {reason}")
                    try:
                        os.kill(proc.pid, signal.SIGKILL)  # our own child, by its pid
                    except ProcessLookupError:
                        pass
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        guard.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    code = proc.returncode
    ok = code in (0, 1) and not killed
    return {
        "wall_s": wall,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # ru_maxrss is KiB on Linux
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "exit_code": code,
        "ok": ok,
        "killed": killed[0] if killed else None,
        "stderr_tail": None if ok else stderr[-2000:],
    }


def describe_failure(label: str, result: dict) -> None:
    why = result["killed"] or (f"signal {-result['exit_code']}" if result["exit_code"] < 0
                               else f"exit code {result['exit_code']}")
    print(f"  ! {label} failed after {result['wall_s']:.1f} s, peak {result['peak_rss_mib']:.0f} MiB: {why}",
          flush=True)
    if result["stderr_tail"]:
        print("    stderr: " + result["stderr_tail"].strip().replace("\n", "\n    "), flush=True)


# --- correctness --------------------------------------------------------------------------

def compared_rows(document: dict) -> list[tuple]:
    return sorted(tuple(r[k] for k in COMPARED) for r in document["results"] if r.get("level", "bank") == "bank")


def check_bank_level(path: Path, label: str, args) -> dict:
    """kpi --format json (bank level) against duckdb_equivalent.py --out, field by field."""
    _common.RESULTS.mkdir(parents=True, exist_ok=True)
    kpi_out = _common.RESULTS / f"check_{label}_kpi.json"
    duck_out = _common.RESULTS / f"check_{label}_duckdb.json"
    limit = int(args.mem_limit_gib * 2**20)
    a = run([KPI, "evaluate", str(path), "--format", "json"], stdout_path=str(kpi_out),
            timeout=args.timeout, mem_limit_kib=limit)
    b = run([sys.executable, DUCKDB_SCRIPT, str(path), "--out", str(duck_out)], timeout=args.timeout,
            mem_limit_kib=limit)
    outcome = {"kpi_bank_run": a, "duckdb_bank_run": b, "identical": False, "differences": []}
    for name, result in (("kpi (bank level)", a), ("duckdb (bank level)", b)):
        if not result["ok"]:
            describe_failure(name, result)
    if not (a["ok"] and b["ok"]):
        outcome["differences"].append("a run failed, nothing to compare")
        return outcome
    ours = compared_rows(json.loads(kpi_out.read_text(encoding="utf-8")))
    theirs = compared_rows(json.loads(duck_out.read_text(encoding="utf-8")))
    outcome["results_compared"] = len(ours)
    if ours != theirs:
        only_kpi = sorted(set(ours) - set(theirs))
        only_duck = sorted(set(theirs) - set(ours))
        outcome["differences"] = ([f"kpi only: {r}" for r in only_kpi[:10]]
                                  + [f"duckdb only: {r}" for r in only_duck[:10]])
        if len(ours) != len(theirs):
            outcome["differences"].insert(0, f"{len(ours)} kpi results, {len(theirs)} duckdb results")
    else:
        outcome["identical"] = True
    return outcome


# --- one file: warm-up, then A B A B ... ---------------------------------------------------

def bench_file(path: Path, label: str, args) -> dict:
    limit = int(args.mem_limit_gib * 2**20)
    a_argv = [KPI, "evaluate", str(path), "--by", "branch", "--format", "json"]
    b_argv = [sys.executable, DUCKDB_SCRIPT, str(path), "--branch-out", os.devnull]
    entry: dict = {"file": str(path), "bytes": path.stat().st_size, "kpi_argv": a_argv, "duckdb_argv": b_argv,
                   "kpi": [], "duckdb": [], "kpi_warmup": None, "duckdb_warmup": None}
    def warm_up(name: str, argv: list[str]) -> dict:
        print(f"  warm-up {name} ...", flush=True)
        result = run(argv, timeout=args.timeout, mem_limit_kib=limit)
        if not result["ok"]:
            describe_failure(f"{name} warm-up", result)
        else:
            print(f"    {result['wall_s']:.2f} s, {result['peak_rss_mib']:.0f} MiB", flush=True)
        return result

    entry["kpi_warmup"] = a_warm = warm_up("kpi", a_argv)
    entry["duckdb_warmup"] = b_warm = warm_up("duckdb", b_argv)
    kpi_alive, duck_alive = a_warm["ok"], b_warm["ok"]
    if not kpi_alive:
        print("  kpi failed its warm-up: its counted runs are skipped (it would fail the same way)", flush=True)
    for i in range(args.runs):
        if kpi_alive:
            a = run(a_argv, timeout=args.timeout, mem_limit_kib=limit)
            entry["kpi"].append(a)
            if not a["ok"]:
                describe_failure(f"kpi run {i + 1}", a)
                kpi_alive = False
        if duck_alive:
            b = run(b_argv, timeout=args.timeout, mem_limit_kib=limit)
            entry["duckdb"].append(b)
            if not b["ok"]:
                describe_failure(f"duckdb run {i + 1}", b)
                duck_alive = False
        a_txt = f"kpi {entry['kpi'][-1]['wall_s']:.2f} s" if entry["kpi"] else "kpi -"
        b_txt = f"duckdb {entry['duckdb'][-1]['wall_s']:.2f} s" if entry["duckdb"] else "duckdb -"
        print(f"  run {i + 1}/{args.runs}: {a_txt}, {b_txt}", flush=True)
    entry["summary"] = summarise(entry)
    return entry


def summarise(entry: dict) -> dict:
    a = [r for r in entry["kpi"] if r["ok"]]
    b = [r for r in entry["duckdb"] if r["ok"]]
    out: dict = {"kpi_runs_ok": len(a), "duckdb_runs_ok": len(b)}
    if a:
        out["kpi_median_wall_s"] = statistics.median(r["wall_s"] for r in a)
        out["kpi_peak_mib"] = max(r["peak_rss_mib"] for r in a)
    if b:
        out["duckdb_median_wall_s"] = statistics.median(r["wall_s"] for r in b)
        out["duckdb_peak_mib"] = max(r["peak_rss_mib"] for r in b)
    pairs = [(x, y) for x, y in zip(entry["kpi"], entry["duckdb"]) if x["ok"] and y["ok"]]
    if pairs:
        out["ratio_wall_median_of_pairs"] = statistics.median(x["wall_s"] / y["wall_s"] for x, y in pairs)
        out["ratio_peak_mib"] = out["kpi_peak_mib"] / out["duckdb_peak_mib"]
    failure = next((r for r in [entry["kpi_warmup"], *entry["kpi"]] if r and not r["ok"]), None)
    if failure:
        out["kpi_failure"] = failure["killed"] or f"exit code {failure['exit_code']}"
        out["kpi_failure_at_s"] = failure["wall_s"]
        out["kpi_failure_peak_mib"] = failure["peak_rss_mib"]
    return out


# --- start-up ------------------------------------------------------------------------------

def startup(args) -> dict:
    limit = int(args.mem_limit_gib * 2**20)
    commands = {
        "kpi --help": [KPI, "--help"],
        "python -c 'import pandas, pyarrow, pydantic, rich, typer, yaml'":
            [sys.executable, "-c", "import pandas, pyarrow, pydantic, rich, typer, yaml"],
        "python -c 'import duckdb'": [sys.executable, "-c", "import duckdb"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    out = {}
    for label, argv in commands.items():
        run(argv, timeout=60, mem_limit_kib=limit)  # warm-up
        runs = [run(argv, timeout=60, mem_limit_kib=limit) for _ in range(args.startup_runs)]
        ok = [r for r in runs if r["ok"]]
        out[label] = {"runs": len(runs), "ok": len(ok),
                      "median_wall_s": statistics.median(r["wall_s"] for r in ok) if ok else None,
                      "peak_mib": max(r["peak_rss_mib"] for r in ok) if ok else None,
                      "walls_s": [r["wall_s"] for r in runs]}
    return out


# --- report --------------------------------------------------------------------------------

def fmt(value, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def print_table(files: list[dict], checks: dict, start: dict) -> None:
    head = ("size", "rows", "format", "kpi med s", "duckdb med s", "kpi/duckdb", "kpi peak MiB",
            "duckdb peak MiB", "mem ratio")
    rows = []
    notes = []
    for f in files:
        s = f["summary"]
        kpi_wall = fmt(s.get("kpi_median_wall_s"), ".2f")
        kpi_mem = fmt(s.get("kpi_peak_mib"), ".0f")
        if "kpi_failure" in s and not s.get("kpi_runs_ok"):
            kpi_wall = f">{s['kpi_failure_at_s']:.0f} (killed)" if "killed" in s["kpi_failure"] else "failed"
            kpi_mem = f">{s['kpi_failure_peak_mib']:.0f}"
            notes.append(f"{f['size']} {f['format']}: kpi {s['kpi_failure']}")
        rows.append((f["size"], f"{f['rows']:,}", f["format"], kpi_wall, fmt(s.get("duckdb_median_wall_s"), ".2f"),
                     fmt(s.get("ratio_wall_median_of_pairs"), ".1f") + ("x" if "ratio_wall_median_of_pairs" in s else ""),
                     kpi_mem, fmt(s.get("duckdb_peak_mib"), ".0f"),
                     fmt(s.get("ratio_peak_mib"), ".1f") + ("x" if "ratio_peak_mib" in s else "")))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = "  ".join("{:>%d}" % w for w in widths)
    print()
    print("kpi evaluate FILE --by branch --format json  vs  duckdb_equivalent.py (whole processes, "
          "A B alternating, medians)")
    print(line.format(*head))
    for r in rows:
        print(line.format(*r))
    for n in notes:
        print("  " + n)
    print()
    print("single run each, bank level (the correctness check): kpi evaluate FILE --format json  vs  "
          "duckdb_equivalent.py --out")
    for label, c in checks.items():
        a, b = c["kpi_bank_run"], c["duckdb_bank_run"]
        a_txt = f"{a['wall_s']:.2f} s, {a['peak_rss_mib']:.0f} MiB" if a["ok"] else f"failed ({a['killed'] or a['exit_code']})"
        b_txt = f"{b['wall_s']:.2f} s, {b['peak_rss_mib']:.0f} MiB" if b["ok"] else f"failed ({b['killed'] or b['exit_code']})"
        print(f"  {label:<14} kpi {a_txt:<22} duckdb {b_txt:<22} results identical: "
              f"{'yes' if c['identical'] else 'no'}"
              + (f" ({c.get('results_compared', 0)} results)" if c["identical"] else ""))
        for d in c["differences"][:10]:
            print(f"      {d}")
    if start:
        print()
        print("start-up (median of %d runs):" % next(iter(start.values()))["runs"])
        for label, s in start.items():
            print(f"  {label:<62} {fmt(s['median_wall_s'], '.3f')} s   peak {fmt(s['peak_mib'], '.0f')} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m",
                        help="comma list of 100k, 1m, 5m (default: 100k,1m; 5m is opt-in: memory and time)")
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each tool per file (default 5)")
    parser.add_argument("--startup-runs", type=int, default=10, help="runs of each start-up command (default 10)")
    parser.add_argument("--timeout", type=float, default=900, help="kill a child after this many seconds")
    parser.add_argument("--mem-limit-gib", type=float, default=16,
                        help="kill a child whose RSS passes this (default 16 GiB of a 24 GiB box)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up measurements")
    parser.add_argument("--out", type=Path, default=_common.RESULTS / "end_to_end.json")
    args = parser.parse_args(argv)

    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in _common.SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; use {', '.join(_common.SIZES)}")
    if not Path(KPI).exists():
        parser.error(f"{KPI} not found: run this with the project's venv python (.venv/bin/python)")
    if importlib.util.find_spec("duckdb") is None:
        parser.error("duckdb is not installed: .venv/bin/pip install duckdb (benchmark only)")

    machine = _common.machine_info()
    print(f"machine: {machine['cpu_model']}, {machine['cpu_count']} cpus, {machine['memory_gib']} GiB, "
          f"Python {machine['python']}, {machine['platform']}", flush=True)
    files: list[dict] = []
    checks: dict[str, dict] = {}
    failed = False
    for size in sizes:
        formats = ("parquet", "csv") if size == "1m" else ("parquet",)
        paths = _common.ensure_export(size, formats)
        for fmt_name, path in paths.items():
            label = f"{size}-{fmt_name}"
            print(f"\n== {label}: {path} ({_common.rows_for(size):,} rows, {path.stat().st_size / 2**20:.0f} MiB)",
                  flush=True)
            print("  correctness check (bank level) ...", flush=True)
            checks[label] = check = check_bank_level(path, label, args)
            print(f"  results identical: {'yes' if check['identical'] else 'no'}", flush=True)
            for d in check["differences"][:10]:
                print(f"    {d}")
            entry = bench_file(path, label, args)
            entry.update(size=size, format=fmt_name, rows=_common.rows_for(size))
            files.append(entry)
            runs = [entry["kpi_warmup"], entry["duckdb_warmup"], *entry["kpi"], *entry["duckdb"]]
            failed |= any(r and not r["ok"] for r in runs)
            failed |= not (check["kpi_bank_run"]["ok"] and check["duckdb_bank_run"]["ok"])

    start = {} if args.no_startup else startup(args)
    print_table(files, checks, start)
    # Linux starts a child's ru_maxrss from its parent's RSS at fork: this is the floor of every peak above
    parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(peak RSS floor: this benchmark process peaked at {parent_mib:.0f} MiB; a child's ru_maxrss "
          "cannot read lower)")
    identical = all(c["identical"] for c in checks.values())
    print(f"\nresults identical: {'yes' if identical else 'no'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "end_to_end",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine,
        "settings": {"sizes": sizes, "runs": args.runs, "startup_runs": args.startup_runs,
                     "timeout_s": args.timeout, "mem_limit_gib": args.mem_limit_gib, "months": _common.MONTHS,
                     "seed": _common.SEED, "order": "warm-up A, warm-up B, then A B alternating",
                     "benchmark_process_peak_mib": parent_mib},
        "files": files,
        "correctness": checks,
        "results_identical": identical,
        "startup": start,
    }, indent=1), encoding="utf-8")
    print(f"written {args.out}")
    if not identical:
        return 1
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
