"""Shared helpers for the benchmark scripts: cached sample exports and machine info.

Only public, standard tools: the exports come from covidbank_kpi.sample (the project's own
seeded generator); machine info from the platform module and /proc/cpuinfo.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
MONTHS = 60  # 2020-01 .. 2024-12: 36 months inside the window, 24 outside (not_applicable)
SEED = 2020

# rows = branches * MONTHS + MONTHS (one head-office row per month)
SIZES: dict[str, int] = {"100k": 1_666, "1m": 16_666, "5m": 83_332}


def rows_for(size: str) -> int:
    return SIZES[size] * MONTHS + MONTHS


def export_path(size: str, fmt: str) -> Path:
    return DATA / f"export_{size}.{fmt}"


def ensure_export(size: str, formats: tuple[str, ...]) -> dict[str, Path]:
    """Generate the export for `size` in each format, unless the file is already there."""
    wanted = {fmt: export_path(size, fmt) for fmt in formats}
    missing = tuple(fmt for fmt, path in wanted.items() if not path.exists())
    if missing:
        # covidbank_kpi.sample's own command line, in a child process: the benchmark process stays
        # small (on Linux a child's ru_maxrss starts from its parent's RSS at fork), and the frame's
        # memory is returned when the child ends. It writes under a temporary stem, then we rename,
        # so a run killed half-way leaves no broken cache.
        DATA.mkdir(parents=True, exist_ok=True)
        stem = f".tmp_export_{size}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "covidbank_kpi.sample", str(DATA), "--branches", str(SIZES[size]),
                        "--months", str(MONTHS), "--start", "2020-01", "--seed", str(SEED), "--stem", stem,
                        "--formats", ",".join(missing)], check=True, stdout=subprocess.DEVNULL)
        for fmt in missing:
            os.replace(DATA / f"{stem}.{fmt}", wanted[fmt])
            print(f"  generated {wanted[fmt].name}: {rows_for(size):,} rows, "
                  f"{wanted[fmt].stat().st_size / 2**20:.0f} MiB", flush=True)
        print(f"  (generation took {time.perf_counter() - started:.1f} s)", flush=True)
    return wanted


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def source_state() -> dict:
    """Which code was measured: the commit, and the files of src/ changed since (others edit it meanwhile)."""
    root = HERE.parent

    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=root, capture_output=True, text=True, timeout=30).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "HEAD"),
            "changed_in_src": [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()]}


def machine_info() -> dict:
    try:
        mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        mem_kib = None
    versions = {}
    for name in ("covidbank-kpi", "pandas", "pyarrow", "pydantic", "numpy", "duckdb"):
        try:  # metadata only: importing them would grow this process (see ensure_export)
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "versions": versions,
        "source": source_state(),
    }
