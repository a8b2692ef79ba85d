"""The work of `kpi evaluate FILE --by branch --format json`, done in DuckDB SQL: the benchmark's baseline.

    .venv/bin/python benchmarks/duckdb_equivalent.py FILE [--out bank.json] [--branch-out rows.json]

1. Read the export: read_parquet, or read_csv with every column as VARCHAR (so `0012` stays
   `0012` and `12.5` / `abc` reach the checks as written, as kpi reads CSV).
2. Check every rule of the data contract, one SQL expression per rule and column: period is
   YYYY-MM or a real YYYY-MM-DD date (or a Parquet date/timestamp); branch_id non-blank after
   trimming; each measure a whole number >= 0 (`12.0` allowed, more than 15 digits too large);
   a pair both-or-neither; part <= whole; (period, branch_id) unique (both rows of a duplicate
   are invalid). Invalid rows: exit 2 (like kpi) unless --skip-invalid.
3. Evaluate all targets at bank level per month (sum(part) / sum(whole) over the rows that
   reported the pair; count targets: the sum), and every valid row's (branch-month) results,
   with statuses compared exactly in integers (part * q >= p * whole for a threshold p/q).
4. Write the bank-level results as JSON (stdout, or --out); the branch-level rows go to
   --branch-out as newline-delimited JSON (the benchmark passes /dev/null, so both tools
   serialise every branch-month result), else they are only counted by status.

The columns, pairs, targets, thresholds, comparators, levels and windows are read from
covidbank_kpi.schema and covidbank_kpi.targets.load_targets(): the SQL is generated from the
same declarations kpi uses, not copied by hand. DuckDB is a benchmark-only dependency.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction

import duckdb

from covidbank_kpi.schema import KEY, MEASURES, PAIRS, REQUIRED_COLUMNS
from covidbank_kpi.targets import Level, Target, TargetSet, load_targets

MAX_DIGITS = 15  # as kpi: a count beyond 10^15 digits is a broken export
# kpi trims Unicode whitespace (pyarrow utf8_trim_whitespace); these are the ones that occur in exports
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u3000"
STATUSES = ("pass", "warn", "fail", "no_data", "not_applicable")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trimmed(column: str) -> str:
    return f"NULLIF(trim(CAST({q(column)} AS VARCHAR), {lit(WHITESPACE)}), '')"


# --- step 2: one expression per rule and column --------------------------------------------

def cell_checks(types: dict[str, str]) -> tuple[list[str], list[str]]:
    """SELECT items of the first pass (typed values + one boolean per rule|column), and the flag names."""
    items: list[str] = []
    flags: list[str] = []

    def flag(rule: str, column: str, expr: str) -> None:
        name = f"{rule}|{column}"
        items.append(f"coalesce({expr}, false) AS {q(name)}")
        flags.append(name)

    # period -> 'YYYY-MM'
    ptype = types["period"].upper()
    if ptype == "DATE" or ptype.startswith("TIMESTAMP"):
        items.append("strftime(CAST(period AS TIMESTAMP), '%Y-%m') AS _period")
        flag("period-missing", "period", "period IS NULL")
    else:
        t = trimmed("period")
        is_month = f"regexp_full_match({t}, '[0-9]{{4}}-(0[1-9]|1[0-2])')"
        is_date = (f"(regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                   f"AND try_strptime({t}, '%Y-%m-%d') IS NOT NULL)")
        items.append(f"CASE WHEN {is_month} THEN {t} WHEN {is_date} THEN left({t}, 7) END AS _period")
        flag("period-missing", "period", f"{t} IS NULL")
        flag("period-format", "period", f"{t} IS NOT NULL AND NOT ({is_month} OR {is_date})")
    # branch_id: text, non-blank after trimming
    items.append(f"{trimmed('branch_id')} AS _branch_id")
    flag("branch-id-missing", "branch_id", f"{trimmed('branch_id')} IS NULL")
    for label in ("branch_name", "region"):
        items.append(f"{trimmed(label)} AS _{label}" if label in types else f"CAST(NULL AS VARCHAR) AS _{label}")

    # measures -> BIGINT >= 0 or NULL (not reported, or a bad cell: the bad cell is flagged)
    for name in MEASURES:
        typ = types[name].upper()
        c = q(name)
        if typ in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
            items.append(f"CASE WHEN {c} >= 0 THEN CAST({c} AS BIGINT) END AS {q('v:' + name)}")
            flag("negative", name, f"{c} < 0")
        elif typ in ("DOUBLE", "FLOAT", "REAL"):
            f = f"CAST({c} AS DOUBLE)"
            present = f"({c} IS NOT NULL AND NOT isnan({f}))"
            whole = f"({present} AND isfinite({f}) AND floor({f}) = {f})"
            large = f"({whole} AND abs({f}) >= 1e{MAX_DIGITS})"
            items.append(f"CASE WHEN {whole} AND NOT {large} AND {f} >= 0 THEN CAST({f} AS BIGINT) END "
                         f"AS {q('v:' + name)}")
            flag("not-whole-number", name, f"{present} AND NOT {whole}")
            flag("too-large", name, large)
            flag("negative", name, f"{whole} AND NOT {large} AND {f} < 0")
        else:  # text (all CSV columns), or anything else read as its text
            t = trimmed(name)
            digits = f"regexp_extract({t}, '^[+-]?([0-9]+)(\\.0*)?$', 1)"  # '' when not a whole number
            ok = f"({digits} <> '' AND length({digits}) <= {MAX_DIGITS})"
            negative = f"(starts_with({t}, '-') AND {ok} AND CAST({digits} AS BIGINT) > 0)"
            items.append(f"CASE WHEN {ok} AND NOT {negative} THEN CAST({digits} AS BIGINT) END AS {q('v:' + name)}")
            flag("not-whole-number", name, f"{t} IS NOT NULL AND {digits} = ''")
            flag("too-large", name, f"length({digits}) > {MAX_DIGITS}")
            flag("negative", name, negative)
    return items, flags


def row_checks(cell_flags: list[str]) -> tuple[list[str], list[str]]:
    """SELECT items of the second pass: pair rules and duplicate keys, over the first pass."""
    items: list[str] = []
    flags: list[str] = []
    for pair in PAIRS:
        part, whole = q("v:" + pair.part), q("v:" + pair.whole)
        cell_bad = " OR ".join(q(f) for f in cell_flags if f.split("|")[1] in (pair.part, pair.whole)) or "false"
        name = f"{pair.part}/{pair.whole}"
        items.append(f"(({part} IS NULL) <> ({whole} IS NULL) AND NOT ({cell_bad})) AS {q('pair-incomplete|' + name)}")
        items.append(f"coalesce({part} > {whole}, false) AS {q('part-exceeds-whole|' + name)}")
        flags += [f"pair-incomplete|{name}", f"part-exceeds-whole|{name}"]
    key_bad = " OR ".join(q(f) for f in cell_flags if f.split("|")[1] in KEY)
    items.append(f"(NOT ({key_bad}) AND count(*) OVER (PARTITION BY _period, _branch_id) > 1) "
                 f"AS {q('duplicate-key|period/branch_id')}")
    flags.append("duplicate-key|period/branch_id")
    return items, flags


# --- step 3: statuses in exact integers -------------------------------------------------------

def compare(left: str, op: str, right: str) -> str:
    return f"({left} {op} {right})"


def verdict_items(target: Target, targets: TargetSet, level: Level, num: str, den: str, n: str,
                  period: str, scope: str) -> str:
    """SELECT list giving one result row for `target` from aggregated (or single-row) sums."""
    p, qq = target.threshold.numerator, target.threshold.denominator
    op = target.test.comparator
    window = targets.window_of(target)
    level_ok = level in target.levels
    if target.is_ratio:
        no_data = f"({n} = 0 OR coalesce({den}, 0) = 0)"
        d = den
    else:
        no_data = f"({n} = 0)"
        d = "1"
    numh, denh = f"CAST({num} AS HUGEINT)", f"CAST({d} AS HUGEINT)"
    meets = compare(f"{numh} * {qq}", op, f"{denh} * {p}")
    warn = ""
    if target.warn_fraction is not None:
        wf: Fraction = target.warn_fraction
        warn = (f"WHEN {meets} AND NOT {compare(f'{numh} * {wf.denominator}', op, f'{denh} * {wf.numerator}')} "
                "THEN 'warn' ")
    scaled = f"({denh} * {p})"
    shortfall = {
        ">=": f"(({scaled} + {qq - 1}) // {qq}) - {numh}",
        ">": f"({scaled} // {qq}) + 1 - {numh}",
        "<=": f"{numh} - ({scaled} // {qq})",
        "<": f"{numh} - ((({scaled} + {qq - 1}) // {qq}) - 1)",
    }[op]
    outside = f"({period} < {lit(window.start)} OR {period} > {lit(window.end)})"
    if not level_ok:
        status = "'not_applicable'"
    else:
        status = (f"CASE WHEN {outside} THEN 'not_applicable' WHEN {no_data} THEN 'no_data' "
                  f"{warn}WHEN {meets} THEN 'pass' ELSE 'fail' END")
    known = "false" if not level_ok else f"NOT {no_data}"
    return ", ".join([
        f"{lit(target.id)} AS target",
        f"{period} AS period",
        f"{lit(level.value)} AS level",
        f"{scope} AS scope",
        f"{status} AS status",
        f"CASE WHEN {known} THEN CAST({num} AS DOUBLE) / CAST({d} AS DOUBLE) END AS actual",
        f"CAST({float(target.threshold)!r} AS DOUBLE) AS threshold",
        f"{lit(op)} AS comparator",
        f"CASE WHEN {known} THEN CAST({num} AS HUGEINT) END AS numerator",
        (f"CASE WHEN {known} THEN CAST({den} AS HUGEINT) END" if target.is_ratio else "CAST(NULL AS HUGEINT)")
        + " AS denominator",
        f"CASE WHEN ({status}) = 'fail' THEN {shortfall} END AS shortfall",
    ])


def bank_sql(targets: TargetSet) -> str:
    sums = ", ".join(f"sum({q('v:' + m)}) AS {q('s:' + m)}, count({q('v:' + m)}) AS {q('n:' + m)}" for m in MEASURES)
    parts = []
    for i, t in enumerate(targets.targets):
        cols = t.metric.columns
        num = q("s:" + cols[0])
        den = q("s:" + cols[-1])
        n = q("n:" + cols[-1])
        items = verdict_items(t, targets, Level.BANK, num, den, n, "period", "'bank'")
        parts.append(f"SELECT {i} AS _order, {items} FROM bank")
    return (f"WITH bank AS (SELECT _period AS period, {sums} FROM valid GROUP BY _period) "
            + " UNION ALL ".join(parts) + " ORDER BY period, _order")


def branch_sql(targets: TargetSet) -> str:
    """Every valid row's results: (period, branch_id) is unique, so a group is one row."""
    parts = []
    for i, t in enumerate(targets.targets):
        cols = t.metric.columns
        num = q("v:" + cols[0])
        den = q("v:" + cols[-1])
        n = f"CAST({den} IS NOT NULL AS INTEGER)"
        parts.append(f"SELECT {i} AS _order, "
                     f"{verdict_items(t, targets, Level.BRANCH, num, den, n, '_period', '_branch_id')} FROM valid")
    return " UNION ALL ".join(parts)


# --- steps 1 and 4 ---------------------------------------------------------------------------

def source(path: str) -> str:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1" or path.lower().endswith((".parquet", ".pq")):
        return f"read_parquet({lit(path)})"
    return (f"read_csv({lit(path)}, all_varchar = true, header = true, delim = ',', quote = '\"', "
            f"escape = '\"', nullstr = '')")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--out", help="write the bank-level JSON here (default: stdout)")
    parser.add_argument("--branch-out", help="write every branch-month result here as newline-delimited JSON")
    parser.add_argument("--skip-invalid", action="store_true", help="evaluate the valid rows and report the rest")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: one per core)")
    parser.add_argument("--timings", action="store_true", help="print each step's wall time to stderr")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def step(label: str) -> None:
        if args.timings:
            print(f"  duckdb_equivalent: {label}: {time.perf_counter() - started:.2f} s", file=sys.stderr)

    targets = load_targets()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    src = source(args.file)
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        print(f"duckdb_equivalent: error: required column {missing[0]!r} is missing", file=sys.stderr)
        return 2

    cells, cell_flags = cell_checks(types)
    rows, row_flags = row_checks(cell_flags)
    flags = cell_flags + row_flags
    keep = ["_period", "_branch_id", "_branch_name", "_region"] + [q("v:" + m) for m in MEASURES]
    con.execute(
        f"CREATE TEMP TABLE checked AS "
        f"WITH cells AS (SELECT {', '.join(cells)} FROM {src}), "
        f"rowchecks AS (SELECT *, {', '.join(rows)} FROM cells) "
        f"SELECT {', '.join(keep)}, {', '.join(q(f) for f in flags)}, "
        f"({' OR '.join(q(f) for f in flags)}) AS _invalid FROM rowchecks"
    )
    step("read and checked")
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _invalid), "
        + ", ".join(f"count(*) FILTER (WHERE {q(f)})" for f in flags) + " FROM checked").fetchone()
    rows_read, rows_invalid = counts[0], counts[1]
    problems = {f: c for f, c in zip(flags, counts[2:]) if c}
    validation = {"rows_read": rows_read, "rows_invalid": rows_invalid, "rows_valid": rows_read - rows_invalid,
                  "problems": problems}
    if rows_invalid and not args.skip_invalid:
        print(json.dumps({"validation": validation}, indent=1), file=sys.stderr)
        return 2
    con.execute("CREATE TEMP VIEW valid AS SELECT * FROM checked WHERE NOT _invalid")

    step("counted")
    cursor = con.execute(bank_sql(targets))
    names = [d[0] for d in cursor.description]
    results = []
    for row in cursor.fetchall():
        record = dict(zip(names, row))
        record.pop("_order")
        for key in ("numerator", "denominator", "shortfall"):
            record[key] = None if record[key] is None else int(record[key])
        results.append(record)
    summary = {s: sum(r["status"] == s for r in results) for s in STATUSES}

    step("bank level")
    branch_query = branch_sql(targets)
    if args.branch_out:
        # ordered like kpi's results: period, target order, scope
        con.execute(f"COPY (SELECT * EXCLUDE (_order) FROM ({branch_query}) ORDER BY period, _order, scope) "
                    f"TO {lit(args.branch_out)} (FORMAT JSON)")
        branch = {"written_to": args.branch_out}
    else:
        by_status = dict(con.execute(f"SELECT status, count(*) FROM ({branch_query}) GROUP BY status").fetchall())
        branch = {"summary": {s: int(by_status.get(s, 0)) for s in STATUSES}}
    step("branch level")
    document = {
        "schema_version": 1,
        "input": args.file,
        "level": "bank",
        "over": "month",
        "results": results,
        "summary": summary,
        "validation": validation,
        "branch_results": branch,
    }
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    step("written")
    return 1 if summary["fail"] else 0  # like kpi: 1 when a target fails


if __name__ == "__main__":
    sys.exit(main())
