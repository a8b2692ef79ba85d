"""read -> validate -> evaluate, as one call: what `kpi evaluate` does, callable from Python.

    from covidbank_kpi.pipeline import evaluate_file
    run = evaluate_file("monthly.parquet", by="region")
    run.evaluation.results        # one row per target x period x scope
    run.evidence.input_sha256     # what produced them
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import InvalidDataError, UsageError
from .evaluate import Driver, Evaluation, drivers, evaluate
from .io import load_mapping, read_export, write_table_atomic
from .targets import DEFAULT_TARGETS, TargetSet, default_targets_path, load_targets
from .validate import ValidationReport, Validated, load_branch_list, validate


@dataclass(frozen=True)
class Evidence:
    """Enough to trace a result in an audit to exactly what produced it."""

    tool_version: str
    input: str
    input_sha256: str
    targets: str
    targets_sha256: str
    rows_read: int
    rows_used: int
    rows_rejected: int
    rejected_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Run:
    evaluation: Evaluation
    validation: ValidationReport
    evidence: Evidence
    drivers: tuple[Driver, ...] = ()  # branches behind each failing bank-level result


def _quiet(stage: str) -> None:
    """The default progress callback: says nothing."""


def read_and_validate(path: str | Path, *, encoding: str | None = None, mapping: str | Path | None = None,
                      branches: str | Path | None = None, require_complete: bool = False,
                      progress: Callable[[str], None] = _quiet) -> Validated:
    column_mapping = load_mapping(mapping) if mapping else None
    progress("reading")
    export = read_export(path, encoding=encoding, mapping=column_mapping)
    branch_list = load_branch_list(branches) if branches else None
    progress(f"validating {export.rows:,} rows")
    return validate(export, branches=branch_list, require_complete=require_complete)


def evaluate_file(
    path: str | Path,
    *,
    targets: str | Path | None = None,
    by: str = "bank",
    period: str | None = None,
    over: str = "month",
    owner: str | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    branches: str | Path | None = None,
    require_complete: bool = False,
    progress: Callable[[str], None] = _quiet,
) -> Run:
    """Evaluate a file; raises InvalidDataError on bad rows unless skip_invalid is set."""
    if rejects and not skip_invalid:
        raise UsageError("--rejects needs --skip-invalid", hint="Without it, any invalid row stops the run")
    target_set = load_targets(targets)
    target_set = _only_owner(target_set, owner) if owner else target_set
    validated = read_and_validate(path, encoding=encoding, mapping=mapping, branches=branches,
                                  require_complete=require_complete, progress=progress)
    report = validated.report
    if report.errors_from_warnings or (report.invalid_rows and not skip_invalid):
        raise InvalidDataError(report, hint=None if report.errors_from_warnings else
                               "Fix the rows, or run with --skip-invalid to evaluate the valid rows only "
                               "(and --rejects PATH to keep the others)")
    if rejects:
        write_table_atomic(rejects, validated.rejected)
    if validated.frame.empty:
        raise InvalidDataError(report, hint="No valid row is left to evaluate: nothing was computed")
    progress(f"evaluating {len(target_set.targets)} targets")
    evaluation = evaluate(validated.frame, target_set, by=by, period=period, over=over)
    targets_path = Path(targets) if targets else default_targets_path()
    evidence = Evidence(
        tool_version=__version__,
        input=str(path),
        input_sha256=validated.export.sha256,
        targets=str(targets) if targets else DEFAULT_TARGETS,
        targets_sha256=hashlib.sha256(targets_path.read_bytes()).hexdigest(),
        rows_read=report.rows_read,
        rows_used=evaluation.rows_used,
        rows_rejected=report.invalid_rows,
        rejected_by_rule=report.rows_by_rule,
    )
    behind = drivers(validated.frame, evaluation) if evaluation.level.value == "bank" else ()
    return Run(evaluation, report, evidence, behind)


def _only_owner(targets: TargetSet, owner: str) -> TargetSet:
    wanted = owner.strip().lower()
    kept = [t for t in targets.targets
            if wanted in (t.owner.department.zh.lower(), t.owner.department.en.lower())]
    if not kept:
        departments = sorted({f"{t.owner.department.zh} ({t.owner.department.en})" for t in targets.targets})
        raise UsageError(f"no target is owned by {owner!r}", hint="Owners are: " + ", ".join(departments))
    return targets.model_copy(update={"targets": kept})
