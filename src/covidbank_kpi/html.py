"""The HTML report: one self-contained page that a manager opens from an email.

Nothing is fetched when the page is viewed: the CSS is inline and every chart is an SVG drawn
here, so the report looks the same offline, inside a mail client's sandbox, or archived for
an audit years later. There is no script. Every string that can come from the input data
(file name, scopes, branch names, regions, warnings) is escaped, so a branch named
`<script>…</script>` is shown as text and never run.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from .evaluate import Result
from .pipeline import Evidence, Run
from .report import (LABELS, STATUS_STYLE, format_basis, format_shortfall, format_threshold, format_value,
                     owner_name, target_name)
from .targets import Target

# Words the shared LABELS do not have; LABELS stays the source of every word the formats share.
TEXT = {
    "zh": {"title": "新冠防疫目标达成报告", "level": "层级", "latest": "最新期间", "results": "项结果",
           "charts": "各目标逐期走势", "owners": "各责任部门最新结果", "evidence": "追溯信息",
           "tool": "工具版本", "input": "输入文件", "targets": "目标文件", "read": "读取", "used": "使用",
           "rejected": "剔除", "by_rule": "按规则剔除", "branch_id": "网点编号", "branch_name": "网点名称",
           "region": "区域", "notes": "数据提示", "showing": "仅显示前 {shown} 个范围(共 {total} 个)",
           "levels": {"bank": "全行", "region": "区域", "branch": "网点"}},
    "en": {"title": "COVID-19 programme KPI report", "level": "Level", "latest": "Latest period",
           "results": "results", "charts": "Each target, period by period", "owners": "Latest results by owner",
           "evidence": "Evidence", "tool": "Tool version", "input": "Input", "targets": "Targets",
           "read": "read", "used": "used", "rejected": "rejected", "by_rule": "Rejected by rule",
           "branch_id": "Branch", "branch_name": "Name", "region": "Region", "notes": "Data notes",
           "showing": "Showing the first {shown} of {total} scopes",
           "levels": {"bank": "bank", "region": "region", "branch": "branch"}},
}
HTML_LANG = {"zh": "zh-CN", "en": "en"}  # zh-CN makes browsers pick a Simplified Chinese font
# Hex colours for the rich styles of report.STATUS_STYLE, so the page follows the terminal's semantics.
STYLE_COLOUR = {"green": "#1a7f37", "yellow": "#b26a00", "bold red": "#cf222e", "dim": "#8c959f"}
ORDER = ("fail", "warn", "pass", "no_data", "not_applicable")  # worst first: what needs action leads
LINE_COLOURS = ("#3b5b92", "#7a5195", "#2a9d8f", "#bc5090", "#8a6d3b", "#4ea8de", "#5e60ce", "#6d597a")
MAX_LINES = len(LINE_COLOURS)
WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 46, 22, 14, 26
NEUTRAL = "#57606a"


def render_html(run: Run, lang: str = "zh") -> str:
    """The whole report as one HTML document (UTF-8, no external resources)."""
    labels, text = LABELS[lang], TEXT[lang]
    evaluation = run.evaluation
    records = evaluation.records()
    periods = sorted({r.period for r in records})
    latest = periods[-1] if periods else None
    by_target: dict[str, list[Result]] = {t.id: [] for t in evaluation.targets.targets}
    for record in records:
        by_target[record.target].append(record)
    targets = sorted(evaluation.targets.targets,
                     key=lambda t: ORDER.index(_worst(r for r in by_target[t.id] if r.period == latest)))
    evidence = run.evidence
    span = f"{periods[0]} – {latest}" if len(periods) > 1 else latest or "—"
    level = text["levels"][evaluation.level.value]
    heading = " · ".join([_e(Path(evidence.input).name), _e(span), f"{_e(text['level'])} {_e(level)}"])
    body = [
        "<header>",
        f"<h1>{_e(text['title'])}</h1>",
        f'<p class="meta">{heading}</p>',
        "</header>",
        _tiles(evaluation.summary(), len(records), labels, text),
        _notes(run, text),
        f"<section><h2>{_e(text['charts'])}</h2>",
        '<div class="grid">',
        *(_card(t, by_target[t.id], periods, latest, lang) for t in targets),
        "</div></section>",
        _owners(run, targets, by_target, latest, lang),
        _evidence(evidence, text),
    ]
    return "\n".join([
        "<!doctype html>",
        f'<html lang="{HTML_LANG[lang]}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(text['title'])} · {_e(Path(evidence.input).name)}</title>",
        f"<style>{_css()}</style>",
        "</head>",
        "<body><main>",
        *body,
        "</main></body>",
        "</html>",
    ]) + "\n"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _worst(results) -> str:
    statuses = [r.status for r in results]
    return min(statuses, key=ORDER.index) if statuses else "no_data"


def _colour(status: str) -> str:
    return STYLE_COLOUR[STATUS_STYLE[status]]


def _pill(status: str, labels: dict) -> str:
    return f'<span class="pill s-{status}">{_e(labels[status])}</span>'


# --- header parts ------------------------------------------------------------------------

def _tiles(summary: dict[str, int], total: int, labels: dict, text: dict) -> str:
    tiles = "".join(
        f'<div class="tile s-{status}{" zero" if not summary[status] else ""}" data-status="{status}">'
        f"<b>{summary[status]:,}</b><span>{_e(labels[status])}</span></div>"
        for status in ("pass", "warn", "fail", "no_data", "not_applicable"))
    return (f'<section class="summary"><h2>{_e(labels["summary"])} '
            f'<small>{total:,} {_e(text["results"])}</small></h2><div class="tiles">{tiles}</div></section>')


def _notes(run: Run, text: dict) -> str:
    """Validation warnings (missing months or branches) change how far a result can be trusted."""
    warnings = getattr(getattr(run, "validation", None), "warnings", ())
    if not warnings:
        return ""
    items = "".join(f"<li>{_e(w.message)}</li>" for w in warnings)
    return f'<section class="notes"><h2>{_e(text["notes"])}</h2><ul>{items}</ul></section>'


# --- chart cards -------------------------------------------------------------------------

def _card(target: Target, results: list[Result], periods: list[str], latest: str | None, lang: str) -> str:
    labels = LABELS[lang]
    now = [r for r in results if r.period == latest]
    status = _worst(now)
    value = f"<strong>{_e(format_value(target, now[0].actual))}</strong> " if len(now) == 1 else ""
    return "\n".join([
        f'<article class="card s-{status}" data-target="{_e(target.id)}" data-status="{status}">',
        f'<header><div><span class="sec">{_e(target.section)}</span> '
        f"<h3>{_e(target_name(target, lang))}</h3></div>{_pill(status, labels)}</header>",
        f'<p class="kpi">{value}<span>{_e(labels["threshold"])} '
        f"{_e(format_threshold(target))} · {_e(latest or '—')}</span></p>",
        _chart(target, results, periods, lang),
        f'<p class="owner">{_e(labels["owner"])}: {_e(owner_name(target, lang))}</p>',
        "</article>",
    ])


def _chart(target: Target, results: list[Result], periods: list[str], lang: str) -> str:
    """Actual values per period (one line per scope, at most MAX_LINES) against a dashed threshold."""
    labels, text = LABELS[lang], TEXT[lang]
    scopes = sorted({r.scope for r in results})
    shown = scopes[:MAX_LINES]
    cell = {(r.scope, r.period): r for r in results if r.scope in shown}
    known = [r.actual for r in cell.values() if r.actual is not None]
    guides = [float(target.threshold)] + ([float(target.warn_fraction)] if target.warn_fraction is not None else [])
    ticks = _ticks(known + guides, target.is_ratio)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if len(periods) == 1 else plot_w * i / (len(periods) - 1))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    name = target_name(target, lang)
    out = [f'<svg class="chart" data-target="{_e(target.id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" aria-label="{_e(name)}"><title>{_e(name)}</title>']
    for v in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                   f'<text class="tick y" x="{LEFT - 6}" y="{y(v) + 3.5:.1f}" text-anchor="end">'
                   f"{_e(_tick_label(v, target.is_ratio))}</text>")
    for i in range(len(periods) - 1, -1, -math.ceil(len(periods) / 6)):  # the latest period always labelled
        out.append(f'<text class="tick x" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                   f"{_e(periods[i])}</text>")
    if target.warn_fraction is not None:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(guides[1]):.1f}" y2="{y(guides[1]):.1f}" '
                   f'stroke="{_colour("warn")}" stroke-width="1" stroke-dasharray="2 3"/>')
    out.append(f'<line class="threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(guides[0]):.1f}" '
               f'y2="{y(guides[0]):.1f}" stroke="{NEUTRAL}" stroke-width="1.2" stroke-dasharray="5 4"/>'
               f'<text class="tick guide" x="{WIDTH - RIGHT}" y="{y(guides[0]) - 4:.1f}" text-anchor="end">'
               f"{_e(format_threshold(target))}</text>")
    for n, scope in enumerate(shown):
        out.append(_line([cell.get((scope, p)) for p in periods], x, y, LINE_COLOURS[n]))
    for i, period in enumerate(periods):
        for scope in shown:
            r = cell.get((scope, period))
            if r is not None and r.actual is not None:
                tip = f"{period} {scope}: {format_value(target, r.actual)} ({labels[r.status]})"
                out.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(r.actual):.1f}" r="3.5" '
                           f'fill="{_colour(r.status)}" data-status="{r.status}"><title>{_e(tip)}</title></circle>')
        gap = cell.get((shown[0], period)) if len(shown) == 1 else None
        if gap is not None and gap.actual is None:  # on the axis, so a missing month reads as missing, not zero
            out.append(f'<circle class="gap" cx="{x(i):.1f}" cy="{TOP + plot_h:.1f}" r="3" fill="#fff" '
                       f'stroke="{_colour("no_data")}"><title>{_e(period)}: {_e(labels[gap.status])}'
                       "</title></circle>")
    if not known:
        status = _worst(results)
        out.append(f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
                   f'text-anchor="middle">{_e(labels[status])}</text>')
    out.append("</svg>")
    if len(scopes) > 1:
        items = "".join(f'<li><i style="background:{LINE_COLOURS[n]}"></i>{_e(s)}</li>' for n, s in enumerate(shown))
        more = (f'<li class="more">{_e(text["showing"].format(shown=len(shown), total=len(scopes)))}</li>'
                if len(scopes) > len(shown) else "")
        out.append(f'<ul class="legend">{items}{more}</ul>')
    return "".join(out)


def _line(cells: list[Result | None], x, y, colour: str) -> str:
    """A path broken at every period without a value, so a gap is never drawn as a slope."""
    commands, pen_down = [], False
    for i, r in enumerate(cells):
        if r is None or r.actual is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x(i):.1f} {y(r.actual):.1f}")
        pen_down = True
    if not commands:
        return ""
    return f'<path d="{" ".join(commands)}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'


def _ticks(values: list[float], ratio: bool) -> list[float]:
    """Round axis steps (1, 2, 2.5 or 5 x 10^n) covering the values; counts start at 0, ratios stay in 0..1."""
    low, high = min(values), max(values)
    if ratio:
        pad = (high - low) * 0.1 or 0.05
        low, high = max(0.0, low - pad), min(1.0, high + pad)
    else:
        low, high = min(0.0, low), max(high * 1.1, 1.0)
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = step if ratio else max(step, 1.0)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _tick_label(value: float, ratio: bool) -> str:
    return f"{value * 100:g}%" if ratio else f"{value:,.0f}"


# --- owner sections ----------------------------------------------------------------------

def _owners(run: Run, targets: list[Target], by_target: dict[str, list[Result]], latest: str | None,
            lang: str) -> str:
    """One table per department: what its manager has to act on, failures first."""
    labels, text = LABELS[lang], TEXT[lang]
    departments: dict[str, list[Target]] = {}
    for t in targets:
        departments.setdefault(t.owner.department.in_lang(lang), []).append(t)
    several_scopes = run.evaluation.level.value != "bank"
    columns = ["target"] + (["scope"] if several_scopes else []) + ["actual", "threshold", "status", "basis",
                                                                     "shortfall"]
    numeric = {"actual", "threshold", "basis", "shortfall"}
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{_e(labels[c])}</th>' for c in columns)
    drivers = [d for d in (getattr(run, "drivers", None) or ()) if d.period == latest]
    out = [f'<section class="owners"><h2>{_e(text["owners"])} <small>{_e(text["latest"])} '
           f"{_e(latest or '—')}</small></h2>"]
    for department, owned in departments.items():
        rows, behind = [], []
        for t in owned:
            for r in (r for r in by_target[t.id] if r.period == latest):
                cells = {"target": f"{t.section} {target_name(t, lang)}", "scope": r.scope,
                         "actual": format_value(t, r.actual), "threshold": format_threshold(t),
                         "basis": format_basis(r), "shortfall": format_shortfall(t, r, lang)}
                rows.append(f'<tr class="s-{r.status}" data-target="{_e(t.id)}">' + "".join(
                    f"<td>{_pill(r.status, labels)}</td>" if c == "status" else
                    f'<td class="{"num" if c in numeric else ""}">{_e(cells[c])}</td>' for c in columns) + "</tr>")
                if r.level == "bank" and r.status == "fail":
                    behind.append(_drivers(t, [d for d in drivers if d.target == t.id], lang))
        out.append(f'<h3>{_e(department)}</h3><div class="scroll"><table class="results"><thead><tr>{head}'
                   f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{"".join(behind)}')
    out.append("</section>")
    return "\n".join(out)


def _drivers(target: Target, drivers: list, lang: str) -> str:
    """The branches that pulled a failing bank-level result down most, largest shortfall first."""
    if not drivers:
        return ""
    labels, text = LABELS[lang], TEXT[lang]
    rows = "".join(
        f'<tr><td>{_e(d.branch_id)}</td><td>{_e(d.branch_name or "")}</td><td>{_e(d.region or "")}</td>'
        f'<td class="num">{_e(format_value(target, d.actual))}</td>'
        f'<td class="num">{_e(format_shortfall(target, d, lang))}</td></tr>'  # reads only .shortfall
        for d in drivers)
    head = "".join(f'<th class="{c}">{_e(w)}</th>' for c, w in (
        ("", text["branch_id"]), ("", text["branch_name"]), ("", text["region"]),
        ("num", labels["actual"]), ("num", labels["shortfall"])))
    return (f'<div class="drivers" data-target="{_e(target.id)}"><h4>{_e(target.section)} '
            f'{_e(target_name(target, lang))} — {_e(labels["drivers"])}</h4><div class="scroll"><table>'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></div>")


# --- evidence ----------------------------------------------------------------------------

def _evidence(evidence: Evidence, text: dict) -> str:
    """Enough to trace every number on the page back to the exact input and targets."""
    rules = ", ".join(f"{rule} {count:,}" for rule, count in evidence.rejected_by_rule.items())
    items = [
        (text["tool"], f"covidbank-kpi {_e(evidence.tool_version)}"),
        (text["input"], f"{_e(evidence.input)}<br><code>sha256 {_e(evidence.input_sha256)}</code>"),
        (text["targets"], f"{_e(evidence.targets)}<br><code>sha256 {_e(evidence.targets_sha256)}</code>"),
        (f'{text["read"]} / {text["used"]} / {text["rejected"]}',
         f'<span class="rows">{evidence.rows_read:,} / {evidence.rows_used:,} / {evidence.rows_rejected:,}</span>'),
    ]
    if rules:
        items.append((text["by_rule"], _e(rules)))
    entries = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f'<footer class="evidence"><h2>{_e(text["evidence"])}</h2><dl>{entries}</dl></footer>'


def _css() -> str:
    statuses = "".join(f".s-{s}{{--c:{_colour(s)}}}" for s in STATUS_STYLE)
    return statuses + """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Zen Hei",Roboto,Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 24px 40px}
h1{font-size:24px;margin:0 0 4px;letter-spacing:.01em}
h2{font-size:17px;margin:32px 0 12px}
h2 small,.meta,.owner,.kpi span{color:#656d76;font-weight:400;font-size:13px}
h3{font-size:15px;margin:0}
h4{font-size:13px;margin:14px 0 6px;color:#656d76;font-weight:600}
.meta{margin:0;font-size:14px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.tile{background:#fff;border:1px solid #d0d7de;border-top:4px solid var(--c);border-radius:8px;padding:10px 16px}
.tile b{display:block;font-size:30px;line-height:1.2;color:var(--c);font-variant-numeric:tabular-nums}
.tile.zero{opacity:.55}
.notes ul{margin:0;padding-left:20px;color:#9a6700}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px}
.card{background:#fff;border:1px solid #d0d7de;border-left:4px solid var(--c);border-radius:8px;padding:14px 16px 10px}
.card header{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.card h3{display:inline}
.sec{color:#656d76;font-size:12px;margin-right:2px}
.kpi{margin:6px 0 4px}.kpi strong{font-size:22px;color:var(--c);margin-right:6px;font-variant-numeric:tabular-nums}
.owner{margin:4px 0 0;font-size:12px}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;color:#fff;background:var(--c);
white-space:nowrap}
svg.chart{display:block;width:100%;height:auto;margin-top:4px;font-size:10px}
svg.chart .grid{stroke:#eaeef2;stroke-width:1}
svg.chart .tick{fill:#656d76;font-size:10px}
svg.chart .point{stroke:#fff;stroke-width:1.2}
svg.chart .empty{fill:#8c959f;font-size:14px}
.legend{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:2px 12px;font-size:12px;color:#424a53}
.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
.legend .more{color:#656d76}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de;border-radius:8px;font-size:13px}
th,td{padding:6px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}
table.results,.drivers table{table-layout:fixed;min-width:720px}
table.results th:first-child{width:30%}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.s-fail td:first-child{box-shadow:inset 3px 0 var(--c)}
.owners h3{margin:22px 0 8px}
.evidence{margin-top:40px;padding-top:8px;border-top:1px solid #d0d7de;font-size:12px;color:#656d76}
.evidence h2{font-size:13px;margin:8px 0}
.evidence dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
.evidence dt{font-weight:600}.evidence dd{margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
@media print{body{background:#fff}.card,.tile{break-inside:avoid}}
"""
