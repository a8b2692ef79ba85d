"""Rendering results and validation reports: terminal table, JSON, CSV, Markdown, JUnit (HTML in html.py).

Renderers take the finished `Run` and return text; they decide nothing. Writing a file is
atomic (io.write_atomic), so a cron job never mails half a report.
"""

from __future__ import annotations

import io as _io
import json
import math
from collections.abc import Iterator
from dataclasses import asdict
from xml.etree import ElementTree as ET


from .evaluate import Evaluation, Result
from .pipeline import Run
from .targets import Target
from .validate import ValidationReport

FORMATS = ("table", "json", "csv", "markdown", "html", "junit")
SUFFIX_FORMATS = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                  ".htm": "html", ".xml": "junit", ".txt": "table"}
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "no_data": "dim", "not_applicable": "dim"}
SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
LABELS = {
    "zh": {"target": "目标", "section": "章节", "owner": "责任部门", "actual": "实际", "threshold": "目标值",
           "status": "状态", "basis": "分子 / 分母", "period": "期间", "scope": "范围", "trend": "走势",
           "shortfall": "差额", "months": "达标月数", "pass": "达标", "warn": "预警", "fail": "未达标",
           "no_data": "无数据", "not_applicable": "不适用", "summary": "汇总", "rows": "行",
           "drivers": "拖累最多的网点",
           "periods_note": "文件共 {n} 个期间（{first} … {latest}），显示 {latest}。"
                           "其他月份用 --period，全部结果用 --format csv/json。",
           "left_out": "{n:,} 行无效数据未参与计算: "},
    "en": {"target": "Target", "section": "Section", "owner": "Owner", "actual": "Actual", "threshold": "Threshold",
           "status": "Status", "basis": "Part / whole", "period": "Period", "scope": "Scope", "trend": "Trend",
           "shortfall": "Shortfall", "months": "Months met", "pass": "pass", "warn": "warn", "fail": "FAIL",
           "no_data": "no data", "not_applicable": "n/a", "summary": "Summary", "rows": "rows",
           "drivers": "branches furthest behind",
           "periods_note": "{n} periods in the file ({first} … {latest}); showing {latest}. "
                           "Use --period for another month, or --format csv/json for every result.",
           "left_out": "{n:,} invalid row(s) left out: "},
}
SPARK = "▁▂▃▄▅▆▇█"
TREND_MONTHS = 12
TREND_ROWS = 2000  # rows in the latest period up to which the table adds each one's trend
TABLE_WIDTH = 150  # when not a terminal (cron, pipes): wide enough that nothing is cut


def format_for(path: str | None, explicit: str | None) -> str:
    """--format wins; otherwise the output file's suffix; otherwise the terminal table."""
    if explicit:
        return explicit
    if path:
        from pathlib import Path

        return SUFFIX_FORMATS.get(Path(path).suffix.lower(), "table")
    return "table"


def render_chunks(run: Run, fmt: str, *, lang: str = "zh", group_by_owner: bool = False,
                  fail_on: str = "fail") -> Iterator[bytes]:
    """The report as UTF-8 pieces, written without holding all of it (JSON streams; the rest are one piece)."""
    if fmt == "json":
        return json_chunks(run, lang=lang, group_by_owner=group_by_owner)
    if fmt == "csv":
        return csv_chunks(run, lang=lang, group_by_owner=group_by_owner)
    return iter([render(run, fmt, lang=lang, group_by_owner=group_by_owner, fail_on=fail_on).encode("utf-8")])


def render(run: Run, fmt: str, *, lang: str = "zh", group_by_owner: bool = False, fail_on: str = "fail",
           width: int | None = None) -> str:
    if fmt == "json":
        return render_json(run, lang=lang, group_by_owner=group_by_owner)
    if fmt == "csv":
        return render_csv(run, lang=lang, group_by_owner=group_by_owner)
    if fmt == "markdown":
        return render_markdown(run, lang=lang, group_by_owner=group_by_owner)
    if fmt == "junit":
        return render_junit(run, fail_on=fail_on, lang=lang, group_by_owner=group_by_owner)
    if fmt == "html":
        from .html import render_html

        return render_html(run, lang=lang)
    return render_table(run, lang=lang, group_by_owner=group_by_owner, width=width)


# --- helpers shared by the formats ---------------------------------------------------------

def target_name(target: Target, lang: str) -> str:
    return target.name.in_lang(lang)


def owner_name(target: Target, lang: str) -> str:
    owner = target.owner.department.in_lang(lang)
    return f"{owner} ({target.owner.contact})" if target.owner.contact else owner


def format_value(target: Target, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:.2f}%" if target.is_ratio else f"{value:,.0f}"


def format_threshold(target: Target) -> str:
    value = float(target.threshold)
    shown = f"{value * 100:g}%" if target.is_ratio else f"{value:,.0f}"
    return f"{SYMBOL[target.test.comparator]} {shown}"


def format_basis(result: Result) -> str:
    if result.numerator is None:
        return "—"
    if result.denominator is None:
        return f"{result.numerator:,}"
    return f"{result.numerator:,} / {result.denominator:,}"


def format_shortfall(target: Target, result: Result, lang: str) -> str:
    """'43,916 more online transactions' / '还需 43,916 笔线上交易': what it takes to meet the target."""
    if result.shortfall is None:
        return ""
    fewer = target.test.comparator.startswith("<")
    unit = target.unit.in_lang(lang) if target.unit else (target.metric.columns[0].replace("_", " "))
    if lang == "zh":
        return f"{'需减少' if fewer else '还需'} {result.shortfall:,} {unit}"
    return f"{result.shortfall:,} {'fewer' if fewer else 'more'} {unit}"


# --- JSON --------------------------------------------------------------------------------

def _owner_order(evaluation: Evaluation, lang: str) -> dict[str, int]:
    """Targets ranked by owner department, then by their order in targets.yaml."""
    targets = evaluation.targets.targets
    ranked = sorted(range(len(targets)), key=lambda i: (targets[i].owner.department.in_lang(lang), i))
    return {targets[i].id: rank for rank, i in enumerate(ranked)}


def ordered_records(run: Run, lang: str, group_by_owner: bool) -> list[Result]:
    records = run.evaluation.records()
    if group_by_owner:
        order = _owner_order(run.evaluation, lang)
        records.sort(key=lambda r: order[r.target])
    return records


CHUNK_ROWS = 1 << 16  # results per piece of JSON or CSV text: millions of results stream, never all in memory


def render_json(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> str:
    return b"".join(json_chunks(run, lang=lang, group_by_owner=group_by_owner)).decode("utf-8")


def json_chunks(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> Iterator[bytes]:
    """The JSON document in UTF-8 pieces; results are formatted column-wise by Arrow, not row by row.

    With group_by_owner, results are ordered by owner department and name it."""
    evaluation = run.evaluation
    head = {"schema_version": 1, "input": run.evidence.input, "targets": run.evidence.targets,
            "level": evaluation.level.value, "over": evaluation.over}
    tail = {
        "summary": evaluation.summary(),
        "evidence": asdict(run.evidence),
        "skipped": {"rows": run.evidence.rows_rejected, "by_rule": run.evidence.rejected_by_rule},
        "warnings": [{"rule": w.rule, "message": w.message, "items": list(w.items)}
                     for w in run.validation.warnings],
        "drivers": [asdict(d) for d in run.drivers],
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "results": [').encode("utf-8")
    frame = evaluation.results
    owners = None
    if group_by_owner:
        order = _owner_order(evaluation, lang)
        frame = frame.iloc[frame["target"].astype(str).map(order).to_numpy().argsort(kind="stable")]
        owners = {t.id: owner_name(t, lang) for t in evaluation.targets.targets}
    fields = _json_fields(frame, owners)
    starts = range(0, len(frame), CHUNK_ROWS)
    for start, text in zip(starts, _in_threads(lambda a: _json_rows(frame.iloc[a:a + CHUNK_ROWS], fields), starts)):
        yield text[1:] if start == 0 else text  # no comma before the first result
    yield ("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n").encode("utf-8")


def _in_threads(work, items) -> Iterator:
    """work(item) for each item, in order, on every core (Arrow's kernels let go of the GIL),
    with only a few results waiting at a time so memory stays bounded."""
    import os
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _json_fields(frame, owners: dict[str, str] | None) -> list[tuple[str, object]]:
    """The pieces of a result's JSON, in order: (column, labels) where a text column's JSON, key
    included, is worked out once per category; (column, key) for a number; (None, text) for text
    that is the same in every row. threshold and comparator are constant per target."""
    import pyarrow as pa

    def per_category(column: str, label) -> tuple[str, pa.Array]:
        return column, pa.array([label(c) for c in frame[column].array.categories], pa.string())

    def text(value) -> str:
        return json.dumps(str(value), ensure_ascii=False)

    def number(value: float) -> str:  # as Arrow writes the other numbers: 2, not 2.0
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    thresholds = frame.groupby("target", observed=True)[["threshold", "comparator"]].first()
    fields = [
        per_category("target", lambda c: ',\n {"target": ' + text(c)),
        per_category("period", lambda c: ', "period": ' + text(c)),
        per_category("level", lambda c: ', "level": ' + text(c)),
        per_category("scope", lambda c: ', "scope": ' + text(c)),
        per_category("status", lambda c: ', "status": ' + text(c)),
        ("actual", ', "actual": '),
        per_category("target", lambda c: ', "threshold": ' + number(thresholds.loc[c, "threshold"])
                     + ', "comparator": ' + text(thresholds.loc[c, "comparator"]) if c in thresholds.index else ""),
        ("numerator", ', "numerator": '),
        ("denominator", ', "denominator": '),
        ("shortfall", ', "shortfall": '),
    ]
    if owners:
        fields.append(per_category("target", lambda c: ', "owner": ' + text(owners[c])))
    return fields


def _json_rows(frame, fields) -> memoryview:
    """',\n {...}' for every result, as one UTF-8 buffer built by pyarrow."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = []
    for name, labels in fields:
        column = frame[name]
        if isinstance(labels, pa.Array):
            pieces.append(labels.take(pa.array(column.array.codes)))
            continue
        if column.dtype.kind == "f":
            values = pa.array(column.to_numpy(), from_pandas=True)
        else:
            values = pa.array(column.to_numpy(dtype=np.int64, na_value=0), mask=column.isna().to_numpy())
        pieces += [labels, pc.fill_null(values.cast(pa.string()), "null")]
    rows = pc.binary_join_element_wise(*pieces, "}", "")
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows), "")
    return memoryview(joined[0].as_buffer())


# --- CSV ---------------------------------------------------------------------------------

def guard_cell(text: str) -> str:
    """A text cell that Excel would run as a formula is prefixed with a quote; numbers stay numbers."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def render_csv(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> str:
    return b"".join(csv_chunks(run, lang=lang, group_by_owner=group_by_owner)).decode("utf-8")


def csv_chunks(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> Iterator[bytes]:
    """One row per result, with the target's name, section and owner and the evidence in every row,
    written by Arrow's CSV writer a piece at a time. Text that Excel would run is guarded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    evaluation = run.evaluation
    frame = evaluation.results
    if group_by_owner:
        order = _owner_order(evaluation, lang)
        frame = frame.iloc[frame["target"].astype(str).map(order).to_numpy().argsort(kind="stable")]
    targets = {t.id: t for t in evaluation.targets.targets}
    per_target = {"name": lambda t: target_name(t, lang), "section": lambda t: t.section,
                  "owner": lambda t: owner_name(t, lang)}
    evidence = run.evidence

    def text(column, label=str) -> pa.Array:
        categorical = column.array
        labels = pa.array([label(c) for c in categorical.categories], pa.string())
        return labels.take(pa.array(categorical.codes))

    def table(part) -> pa.Table:
        columns = {"target": text(part["target"])}
        for name, label in per_target.items():
            columns[name] = text(part["target"], lambda t, label=label: label(targets[t]))
        for name in ("period", "level"):
            columns[name] = text(part[name])
        columns["scope"] = text(part["scope"], lambda c: guard_cell(str(c)))
        columns["status"] = text(part["status"])
        columns["actual"] = pa.array(part["actual"].to_numpy(), from_pandas=True)
        columns["threshold"] = pa.array(part["threshold"].to_numpy())
        columns["comparator"] = text(part["comparator"])
        for name in ("numerator", "denominator", "shortfall"):
            columns[name] = pa.array(part[name].to_numpy(dtype=np.int64, na_value=0), mask=part[name].isna().to_numpy())
        for key in ("tool_version", "input_sha256", "targets_sha256", "rows_read", "rows_used", "rows_rejected"):
            columns[key] = pa.repeat(pa.scalar(getattr(evidence, key)), len(part))
        return pa.table(columns)

    for start in range(0, max(len(frame), 1), CHUNK_ROWS):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table(frame.iloc[start:start + CHUNK_ROWS]), sink,
                        pacsv.WriteOptions(include_header=start == 0, quoting_style="needed"))
        yield sink.getvalue().to_pybytes()


# --- Markdown ----------------------------------------------------------------------------

def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> str:
    labels = LABELS[lang]
    evaluation = run.evaluation
    targets = {t.id: t for t in evaluation.targets.targets}
    summary = evaluation.summary()
    lines = [
        f"# KPI report: {_md(run.evidence.input)}",
        "",
        " · ".join(f"{labels[s]}: {summary[s]}" for s in summary),
        "",
        f"Rows read {run.evidence.rows_read:,}, used {run.evidence.rows_used:,}, "
        f"left out {run.evidence.rows_rejected:,}{_why(run)}. Input SHA-256 `{run.evidence.input_sha256}`, "
        f"targets `{_md(run.evidence.targets)}` SHA-256 `{run.evidence.targets_sha256}`, "
        f"covidbank-kpi {run.evidence.tool_version}.",
        "",
    ]
    header = [labels[k] for k in ("period", "target", "section", "owner", "scope", "actual", "threshold",
                                  "status", "basis", "shortfall")]
    groups = _by_owner(run, lang) if group_by_owner else [(None, evaluation.records())]
    for owner, records in groups:
        if owner:
            lines += [f"## {_md(owner)}", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in records:
            t = targets[r.target]
            cells = [r.period, target_name(t, lang), t.section, owner_name(t, lang), r.scope,
                     format_value(t, r.actual), format_threshold(t), labels[r.status], format_basis(r),
                     format_shortfall(t, r, lang)]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _why(run: Run) -> str:
    """' (negative 3, duplicate-key 2)': the rules behind the rows left out, if any."""
    by_rule = run.evidence.rejected_by_rule
    return f" ({', '.join(f'{rule} {count:,}' for rule, count in by_rule.items())})" if by_rule else ""


def _by_owner(run: Run, lang: str) -> list[tuple[str, list[Result]]]:
    targets = {t.id: t for t in run.evaluation.targets.targets}
    groups: dict[str, list[Result]] = {}
    for record in ordered_records(run, lang, True):
        groups.setdefault(targets[record.target].owner.department.in_lang(lang), []).append(record)
    return list(groups.items())


# --- JUnit -------------------------------------------------------------------------------

def render_junit(run: Run, *, fail_on: str = "fail", lang: str = "zh", group_by_owner: bool = False) -> str:
    """One test case per target x period x scope, so CI shows KPI failures like test failures.
    A suite per target, or per owner department with group_by_owner."""
    evaluation = run.evaluation
    targets = {t.id: t for t in evaluation.targets.targets}
    failing = {"fail"} | ({"warn"} if fail_on == "warn" else set())
    if fail_on == "never":
        failing = set()
    root = ET.Element("testsuites", name="covidbank-kpi")
    properties = ET.SubElement(root, "properties")
    for key, value in asdict(run.evidence).items():
        if key != "rejected_by_rule":
            ET.SubElement(properties, "property", name=key, value=str(value))
    total = failures = skipped = 0
    suites: dict[str, list[Result]] = {}
    for r in ordered_records(run, lang, group_by_owner):
        key = targets[r.target].owner.department.in_lang(lang) if group_by_owner else r.target
        suites.setdefault(key, []).append(r)
    for name, records in suites.items():
        suite = ET.SubElement(root, "testsuite", name=name)
        s_fail = s_skip = 0
        for r in records:
            target = targets[r.target]
            case = ET.SubElement(suite, "testcase", classname=f"kpi.{target.id}",
                                 name=f"{target.id}[{r.period}][{r.level}:{r.scope}]")
            if r.status in failing:
                s_fail += 1
                message = (f"{target.name.en} {r.period} {r.scope}: actual {format_value(target, r.actual)} "
                           f"is not {format_threshold(target)} ({format_basis(r)})")
                if r.shortfall is not None:
                    message += f"; shortfall {r.shortfall:,}"
                if r.status == "warn":
                    message = f"{target.name.en} {r.period} {r.scope}: {format_value(target, r.actual)} is inside " \
                              f"the warning band (warn at {target.warn_threshold})"
                ET.SubElement(case, "failure", message=message, type=r.status).text = message
            elif r.status in ("no_data", "not_applicable"):
                s_skip += 1
                ET.SubElement(case, "skipped", message=r.status.replace("_", " "))
        suite.set("tests", str(len(records)))
        suite.set("failures", str(s_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(s_skip))
        total, failures, skipped = total + len(records), failures + s_fail, skipped + s_skip
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- terminal table ----------------------------------------------------------------------

def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None and not math.isnan(v)]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(" " if v is None or math.isnan(v) else SPARK[int((v - low) / span * (len(SPARK) - 1))]
                   for v in values)


def render_table(run: Run, *, lang: str = "zh", group_by_owner: bool = False, width: int | None = None) -> str:
    from rich.console import Console

    console = Console(file=_io.StringIO(), width=width or TABLE_WIDTH, force_terminal=False, color_system=None)
    for item in table_renderables(run, lang=lang, group_by_owner=group_by_owner):
        console.print(item)
    return console.file.getvalue()


def table_renderables(run: Run, *, lang: str = "zh", group_by_owner: bool = False) -> list:
    """With several periods: the latest one, plus each target's trend and months met."""
    from rich.table import Table
    from rich.text import Text

    labels = LABELS[lang]
    evaluation = run.evaluation
    frame = evaluation.results
    targets = {t.id: t for t in evaluation.targets.targets}
    periods = sorted(frame["period"].unique()) if len(frame) else []
    latest = periods[-1] if periods else None
    several = len(periods) > 1
    records = evaluation.records(frame[frame["period"] == latest])
    if group_by_owner:
        records.sort(key=lambda r: targets[r.target].owner.department.in_lang(lang))
    several = several and len(records) <= TREND_ROWS  # a trend per branch of a large bank is no terminal table
    history: dict[tuple[str, str], list] = {}
    met: dict[tuple[str, str], list[int]] = {}
    if several:
        for r in evaluation.records():
            history.setdefault((r.target, r.scope), []).append(r.actual)
            counts = met.setdefault((r.target, r.scope), [0, 0])
            if r.status in ("pass", "warn", "fail"):
                counts[1] += 1
                counts[0] += r.status != "fail"

    level = evaluation.level.value
    title = f"{run.evidence.input} · {latest or '—'} · {level}"
    table = Table(title=title, title_style="bold", header_style="bold")
    table.add_column(labels["target"], no_wrap=True)
    table.add_column(labels["owner"], no_wrap=True)
    if level != "bank":
        table.add_column(labels["scope"], no_wrap=True)
    table.add_column(labels["actual"], justify="right", no_wrap=True)
    table.add_column(labels["threshold"], justify="right", no_wrap=True)
    table.add_column(labels["status"], no_wrap=True)
    table.add_column(labels["basis"], justify="right", no_wrap=True)
    table.add_column(labels["shortfall"], justify="right", no_wrap=True)
    if several:
        table.add_column(labels["trend"], no_wrap=True)
        table.add_column(labels["months"], justify="right", no_wrap=True)
    for r in records:
        t = targets[r.target]
        row = [f"{t.section} {target_name(t, lang)}", owner_name(t, lang)]
        if level != "bank":
            row.append(r.scope)
        row += [format_value(t, r.actual), format_threshold(t),
                Text(labels[r.status], style=STATUS_STYLE[r.status]), format_basis(r),
                "" if r.shortfall is None else f"{r.shortfall:,}"]
        if several:
            done, judged = met[(r.target, r.scope)]
            row += [sparkline(history[(r.target, r.scope)][-TREND_MONTHS:]), f"{done}/{judged}" if judged else "—"]
        table.add_row(*row)
    out: list = [table]
    behind = [d for d in run.drivers if d.period == latest]
    for t in evaluation.targets.targets:
        mine = [d for d in behind if d.target == t.id]
        if mine:
            names = ", ".join(f"{d.branch_id} {d.branch_name or ''} ({format_value(t, d.actual)}, "
                              f"{labels['shortfall']} {d.shortfall:,})" for d in mine[:3])
            out.append(f"{t.section} {target_name(t, lang)} — {labels['drivers']}: {names}")
    summary = evaluation.summary()
    out.append(" · ".join(f"{labels[s]} {summary[s]}" for s in summary if summary[s]))
    if len(periods) > 1:
        out.append(labels["periods_note"].format(n=len(periods), first=periods[0], latest=latest))
    if run.evidence.rows_rejected:
        out.append(labels["left_out"].format(n=run.evidence.rows_rejected)
                   + ", ".join(f"{k} {v}" for k, v in run.evidence.rejected_by_rule.items()))
    return out


# --- validation report -------------------------------------------------------------------

def render_validation(report: ValidationReport, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(validation_dict(report), ensure_ascii=False, indent=1) + "\n"
    lines = [f"{report.path}: {report.rows_read:,} rows read, {report.valid_rows:,} valid, "
             f"{report.invalid_rows:,} invalid."]
    for problem in report.problems:
        lines.append(f"  ✗ {problem.rule} in {problem.column}: {problem.count:,} row(s): {problem.description}.")
        for example in problem.examples:
            lines.append(f"      {report.line_label} {example.line}: {example.value!r}")
        if problem.count > len(problem.examples):
            lines.append(f"      … and {problem.count - len(problem.examples):,} more")
    for warning in report.warnings:
        mark = "✗" if warning.rule in report.errors_from_warnings else "!"
        lines.append(f"  {mark} {warning.rule}: {warning.message}.")
        for item in warning.items[:10]:
            lines.append(f"      {item}")
        if len(warning.items) > 10:
            lines.append(f"      … and {len(warning.items) - 10} more")
    for note in report.notes:
        lines.append(f"  · {note}.")
    if report.ok:
        lines.append("The file meets the data contract.")
    return "\n".join(lines) + "\n"


def validation_dict(report: ValidationReport) -> dict:
    return {
        "schema_version": 1,
        "input": report.path,
        "valid": report.ok,
        "rows_read": report.rows_read,
        "rows_valid": report.valid_rows,
        "rows_invalid": report.invalid_rows,
        "line_numbering": report.line_label,
        "problems": [
            {"rule": p.rule, "column": p.column, "rows": p.count, "description": p.description,
             "examples": [{"line": e.line, "value": e.value} for e in p.examples]}
            for p in report.problems
        ],
        "warnings": [{"rule": w.rule, "message": w.message, "items": list(w.items),
                      "error": w.rule in report.errors_from_warnings} for w in report.warnings],
        "notes": list(report.notes),
    }

