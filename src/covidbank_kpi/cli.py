"""`kpi`: a thin command line over the library. It parses options, calls the pipeline and the
renderers, and maps errors to exit codes: 0 all pass, 1 a target fails, 2 bad input or usage.

pandas and pyarrow are imported inside the commands that need them, so `kpi --help` and
`kpi --version` start at once.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import InvalidDataError, KpiError

app = typer.Typer(
    name="kpi",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: formatting it with rich costs more start-up than the help is worth
)


class By(str, Enum):
    bank = "bank"
    region = "region"
    branch = "branch"


class Over(str, Enum):
    month = "month"
    quarter = "quarter"
    year = "year"
    window = "window"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    junit = "junit"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"


class FailOn(str, Enum):
    fail = "fail"
    warn = "warn"
    never = "never"


class Lang(str, Enum):
    zh = "zh"
    en = "en"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kpi (covidbank-kpi) {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Check a bank's COVID-19 programme targets against its branch-month exports.

    Exit codes: 0 every target evaluated passes, 1 a target fails, 2 a problem with the
    input, the targets file or the command line.

    Start with: kpi evaluate monthly.parquet
    """


def _fail(error: KpiError) -> None:
    typer.echo(f"kpi: error: {error.message()}", err=True)
    raise typer.Exit(error.exit_code)


class _Progress:
    """A spinner on stderr, only on a terminal and only once the work has taken a second:
    cron jobs, CI and pipes see nothing extra."""

    def __init__(self) -> None:
        self.stage = "reading"
        self.status = None
        self.timer = None

    def __call__(self, stage: str) -> None:
        self.stage = stage
        if self.status is not None:
            self.status.update(f"{stage}…")

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            import threading

            self.timer = threading.Timer(1.0, self._show)
            self.timer.daemon = True
            self.timer.start()
        return self

    def _show(self) -> None:
        from rich.console import Console

        self.status = Console(stderr=True).status(f"{self.stage}…")
        self.status.start()

    def __exit__(self, *exc) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.status is not None:
            self.status.stop()


FileArg = Annotated[Path, typer.Argument(help="The branch-month export: .csv (UTF-8 or GBK) or .parquet.",
                                         show_default=False, metavar="FILE")]
EncodingOpt = Annotated[Optional[str], typer.Option(help="CSV encoding (utf-8, gbk, gb18030); detected if left out.")]
MappingOpt = Annotated[Optional[Path], typer.Option(help="YAML column mapping for exports with other headers.")]
BranchesOpt = Annotated[Optional[Path], typer.Option(help="Master list of branch ids, to check none is missing.")]
CompleteOpt = Annotated[bool, typer.Option("--require-complete",
                                           help="Treat missing branches or months as errors, not warnings.")]


@app.command()
def evaluate(
    file: FileArg,
    targets: Annotated[Optional[Path], typer.Option(help="targets.yaml to use (default: the built-in one).")] = None,
    by: Annotated[By, typer.Option(help="Level of the results.")] = By.bank,
    period: Annotated[Optional[str], typer.Option(help="Evaluate one month only (YYYY-MM).")] = None,
    over: Annotated[Over, typer.Option(help="Span of each result.")] = Over.month,
    fmt: Annotated[Optional[Format], typer.Option("--format", "-f",
                                                  help="Output format (default: from --output's suffix, else table).")
                   ] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    owner: Annotated[Optional[str], typer.Option(help="Only the targets of this department (zh or en name).")] = None,
    group_by_owner: Annotated[bool, typer.Option("--group-by-owner", help="Group the report by owner.")] = False,
    fail_on: Annotated[FailOn, typer.Option(help="Which statuses give exit code 1.")] = FailOn.fail,
    lang: Annotated[Lang, typer.Option(help="Language of labels and target names.")] = Lang.zh,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid",
                                               help="Evaluate the valid rows and report the rest.")] = False,
    rejects: Annotated[Optional[Path], typer.Option(help="With --skip-invalid: write rejected rows here "
                                                         "(.csv or .parquet).")] = None,
    encoding: EncodingOpt = None,
    mapping: MappingOpt = None,
    branches: BranchesOpt = None,
    require_complete: CompleteOpt = False,
) -> None:
    """Evaluate every target on FILE and show pass/fail per month."""
    from .io import write_atomic
    from .pipeline import evaluate_file
    from .report import TABLE_WIDTH, format_for, render_chunks, render_validation, table_renderables

    try:
        chosen = format_for(str(output) if output else None, fmt.value if fmt else None)
        options = dict(lang=lang.value, group_by_owner=group_by_owner, fail_on=fail_on.value)
        with _Progress() as progress:
            run = evaluate_file(
                file, targets=targets, by=by.value, period=period, over=over.value, owner=owner,
                skip_invalid=skip_invalid, rejects=rejects, encoding=encoding, mapping=mapping, branches=branches,
                require_complete=require_complete, progress=progress,
            )
            if output:
                progress(f"writing {output}")
                write_atomic(output, render_chunks(run, chosen, **options))
        if output is None and chosen == "table":
            from rich.console import Console

            console = Console()
            if not console.is_terminal:
                console = Console(width=TABLE_WIDTH)
            for item in table_renderables(run, lang=lang.value, group_by_owner=group_by_owner):
                console.print(item)
        elif output is None:
            sys.stdout.flush()
            for chunk in render_chunks(run, chosen, **options):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    except InvalidDataError as error:
        typer.echo(render_validation(error.report), err=True, nl=False)
        _fail(error)
    except KpiError as error:
        _fail(error)
    for warning in run.validation.warnings:
        typer.echo(f"kpi: warning: {warning.message}", err=True)
    raise typer.Exit(run.evaluation.exit_code(fail_on.value))


@app.command()
def validate(
    file: FileArg,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.table,
    encoding: EncodingOpt = None,
    mapping: MappingOpt = None,
    branches: BranchesOpt = None,
    require_complete: CompleteOpt = False,
) -> None:
    """Check FILE against the data contract: exit 0 when clean, 2 when not."""
    from .pipeline import read_and_validate
    from .report import render_validation

    try:
        with _Progress() as progress:
            validated = read_and_validate(file, encoding=encoding, mapping=mapping, branches=branches,
                                          require_complete=require_complete, progress=progress)
    except KpiError as error:
        _fail(error)
    sys.stdout.write(render_validation(validated.report, fmt.value))
    raise typer.Exit(0 if validated.report.ok else 2)


@app.command()
def schema(
    targets: Annotated[bool, typer.Option("--targets", help="The JSON Schema of targets.yaml instead.")] = False,
) -> None:
    """Print the data contract (or targets.yaml's schema) as JSON Schema."""
    if targets:
        from .targets import targets_json_schema as make
    else:
        from .schema import json_schema as make
    sys.stdout.write(json.dumps(make(), ensure_ascii=False, indent=2) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
