"""Checking an export against the data contract, column by column.

The rules come from `schema.BranchMonth`: its required columns, its whole-number measures and
their part/whole pairs. Each rule is one vectorised expression over whole columns (pyarrow
compute and numpy), so a million rows take well under a second; Pydantic validates row by
row only in the tests, as the reference these checks must agree with.

Nothing is dropped silently: every row is either valid or rejected with the rules it breaks,
and `valid + rejected == rows read` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputFileError, Location
from .io import Export
from .schema import MAX_COUNT, MEASURES, PAIRS

MAX_EXAMPLES = 5
_WHOLE = r"^[+-]?[0-9]+(\.0*)?$"
_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_MAX_DIGITS = len(str(MAX_COUNT))  # the model's upper bound, as a digit count
_PLAIN = f"^[0-9]{{1,{_MAX_DIGITS}}}$"

#: Every rule a row can break, in words, keyed by the code shown in reports and rejects files.
RULES: dict[str, str] = {
    "period-missing": "period is blank",
    "period-format": "period is not a month (YYYY-MM, or a date YYYY-MM-DD)",
    "branch-id-missing": "branch_id is blank",
    "not-whole-number": "a measure must be a whole number (12 or 12.0)",
    "negative": "a measure must be 0 or more",
    "too-large": f"a measure has more than {_MAX_DIGITS} digits",
    "pair-incomplete": "part and whole must both be reported or both be blank",
    "part-exceeds-whole": "the part is larger than its whole",
    "duplicate-key": "the same branch_id reports the same period more than once",
}
#: Problems of the file as a whole, reported as warnings unless the user asks otherwise.
WARNINGS: dict[str, str] = {
    "extra-columns": "columns outside the data contract are kept and ignored",
    "branch-missing-months": "a branch reported in some months of the file but not in others",
    "branch-not-in-file": "a branch of the master list does not appear in the file",
    "branch-not-in-master": "a branch in the file is not on the master list",
    "branch-id-not-text": "branch_id is stored as a number, so leading zeros may already be lost",
}


@dataclass(frozen=True)
class Example:
    line: int
    value: str


@dataclass(frozen=True)
class Problem:
    """One rule broken in one column: how many rows, and the first few of them."""

    rule: str
    column: str
    count: int
    examples: tuple[Example, ...]

    @property
    def description(self) -> str:
        return RULES.get(self.rule) or WARNINGS.get(self.rule, self.rule)


@dataclass(frozen=True)
class DataWarning:
    rule: str
    message: str
    items: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return WARNINGS.get(self.rule, self.rule)


@dataclass(frozen=True, eq=False)
class ValidationReport:
    path: str
    format: str
    line_label: str
    rows_read: int
    invalid_rows: int
    problems: tuple[Problem, ...]
    warnings: tuple[DataWarning, ...]
    errors_from_warnings: tuple[str, ...] = ()  # warning rules promoted to errors (--require-complete)
    notes: tuple[str, ...] = ()
    rows_by_rule: dict[str, int] = field(default_factory=dict)  # a row breaking a rule twice counts once

    @property
    def valid_rows(self) -> int:
        return self.rows_read - self.invalid_rows

    @property
    def ok(self) -> bool:
        return self.invalid_rows == 0 and not self.errors_from_warnings


@dataclass(frozen=True, eq=False)
class Validated:
    """The outcome of validation: typed valid rows, the rejected rows as read, and the report."""

    frame: pd.DataFrame  # valid rows: period, branch_id, branch_name, region, measures (Int64)
    rejected: pa.Table  # rejected rows, untouched, with `_line` and `_rules` columns
    report: ValidationReport
    export: Export = field(repr=False)


def validate(export: Export, *, branches: list[str] | None = None, require_complete: bool = False) -> Validated:
    """Check every rule of the contract over whole columns; never raises for bad rows."""
    table = export.table
    n = table.num_rows
    broken: dict[str, np.ndarray] = {}  # "rule|column" -> row mask
    shown: dict[str, pa.Array] = {}  # "rule|column" -> the cells as the user wrote them

    def flag(rule: str, column: str, mask: np.ndarray, raw) -> None:
        """Record a broken rule. `raw` is the column as the user wrote it, or a function giving
        the cells of some rows as text: only the few rows shown as examples are ever worded."""
        if mask.any():
            key = f"{rule}|{column}"
            broken[key] = broken[key] | mask if key in broken else mask
            shown[key] = raw

    warnings: list[DataWarning] = []
    period, period_raw = _period(table.column("period"), flag)
    branch_id, branch_raw, as_number = _branch_id(table.column("branch_id"), flag)
    if as_number:
        warnings.append(DataWarning("branch-id-not-text", "branch_id is stored as a number in the file; "
                                    "leading zeros (0012) may have been lost before this tool saw it"))
    measures: dict[str, np.ndarray] = {}
    reported: dict[str, np.ndarray] = {}
    for name in MEASURES:
        values, present = _measure(table.column(name), name, flag)
        measures[name], reported[name] = values, present

    for pair in PAIRS:
        part_ok, whole_ok = reported[pair.part], reported[pair.whole]
        part_cell_bad = _any_cell_rule(broken, pair.part, n)
        whole_cell_bad = _any_cell_rule(broken, pair.whole, n)
        incomplete = (part_ok != whole_ok) & ~part_cell_bad & ~whole_cell_bad
        raw = _joined(table.column(pair.part), table.column(pair.whole))
        flag("pair-incomplete", f"{pair.part}/{pair.whole}", incomplete, raw)
        exceeds = part_ok & whole_ok & (measures[pair.part] > measures[pair.whole])
        flag("part-exceeds-whole", f"{pair.part}/{pair.whole}", exceeds, raw)

    key_ok = ~(_any_cell_rule(broken, "period", n) | _any_cell_rule(broken, "branch_id", n))
    dup = np.zeros(n, dtype=bool)  # among rows with a valid key only: "2020-02-30" is no duplicate of "2020-02"
    pair_code = period.codes * (len(branch_id.categories) + 1) + branch_id.codes  # one integer per key
    dup[key_ok] = pd.Series(pair_code[key_ok]).duplicated(keep=False).to_numpy()
    flag("duplicate-key", "period/branch_id", dup, _joined(period_raw, branch_raw))

    invalid = np.zeros(n, dtype=bool)
    per_rule: dict[str, np.ndarray] = {}
    for key, mask in broken.items():
        invalid |= mask
        rule = key.split("|")[0]
        per_rule[rule] = per_rule[rule] | mask if rule in per_rule else mask
    rows_by_rule = {rule: int(mask.sum()) for rule, mask in per_rule.items()}
    problems = tuple(
        Problem(key.split("|")[0], key.split("|")[1], int(mask.sum()), _examples(mask, shown[key], export.lines))
        for key, mask in sorted(broken.items(), key=lambda kv: _first(kv[1]))
    )

    valid = ~invalid
    frame = _frame(table, valid, period, branch_id, measures, reported)
    if export.extra_columns:
        warnings.append(DataWarning("extra-columns", "columns outside the data contract are kept and ignored: "
                                    + ", ".join(export.extra_columns), export.extra_columns))
    warnings.extend(_completeness(frame, branches))
    promoted = tuple(w.rule for w in warnings if require_complete and w.rule.startswith("branch-")
                     and w.rule != "branch-id-not-text")
    report = ValidationReport(export.path, export.format, export.line_label, n, int(invalid.sum()), problems,
                              tuple(warnings), promoted, export.notes, rows_by_rule)
    return Validated(frame, _rejected(table, invalid, broken, export.lines), report, export)


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _any_cell_rule(broken: dict[str, np.ndarray], column: str, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for key, mask in broken.items():
        if key.split("|")[1] == column:
            out |= mask
    return out


def _np(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells as trimmed text, blank as null."""
    if not pa.types.is_string(column.type):  # numbers, and large_string (pandas' default in Parquet)
        column = column.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


@dataclass(frozen=True, eq=False)
class Coded:
    """A text column as integer codes into sorted distinct values (-1 for blank): the checks and
    the trimming run once per distinct value, not once per row."""

    codes: np.ndarray
    categories: np.ndarray  # object array of str

    def categorical(self, keep: np.ndarray | None = None) -> pd.Categorical:
        """The column as a pandas Categorical, of the rows where `keep` (a boolean mask) is True."""
        codes = self.codes if keep is None else self.codes[keep]
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.categories, dtype="str"))


def _coded(column: pa.ChunkedArray, normalise=None) -> tuple[Coded, np.ndarray, np.ndarray]:
    """Dictionary-encode, then trim (and normalise) the distinct values. Also returns, per row,
    whether the cell is blank and whether `normalise` accepted it."""
    if not pa.types.is_string(column.type):  # numbers, and large_string (pandas' default in Parquet)
        column = column.cast(pa.string())
    encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    codes = _np(encoded.indices.fill_null(-1)).astype(np.int64)
    values = _text(encoded.dictionary)
    blank = np.append(_np(values.is_null()), True)[codes]  # the last slot stands for null cells (-1)
    if normalise is not None:
        values, _ = normalise(values)
    # several raw values may trim to one ("华东", " 华东"): code them as one, in sorted order
    labels = np.asarray(values.to_pylist(), dtype=object)
    known = np.array([v is not None for v in labels], dtype=bool)
    categories, inverse = np.unique(labels[known].astype(str), return_inverse=True)
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)  # the last slot maps null cells (-1) to -1
    remap[np.flatnonzero(known)] = inverse
    codes = remap[codes]
    return Coded(codes, categories.astype(object)), blank, codes >= 0


def _month_values(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Distinct period cells -> 'YYYY-MM' (null when neither a month nor a real date)."""
    is_month = pc.fill_null(pc.match_substring_regex(text, _MONTH), False)
    is_date_text = pc.fill_null(pc.match_substring_regex(text, _DATE), False)
    as_date = pc.strptime(pc.if_else(is_date_text, text, pa.scalar(None, pa.string())),
                          format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2020-02-30 over to 2020-03-01: a real date prints back as written
    is_date = pc.fill_null(pc.equal(pc.strftime(as_date, format="%Y-%m-%d"), text), False)
    month = pc.if_else(is_month, text, pc.utf8_slice_codeunits(text, 0, 7))
    ok = _np(pc.or_(is_month, is_date))
    return pc.if_else(pa.array(ok), month, pa.scalar(None, pa.string())), ok


def _period(column: pa.ChunkedArray, flag) -> tuple[Coded, pa.ChunkedArray]:
    """Normalise to 'YYYY-MM'; a date or timestamp is taken as its month."""
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        flag("period-missing", "period", _np(column.is_null()), column)
        return _coded(pc.strftime(column, format="%Y-%m"))[0], column
    coded, blank, ok = _coded(column, _month_values)
    flag("period-missing", "period", blank, column)
    flag("period-format", "period", ~blank & ~ok, column)
    return coded, column


def _branch_id(column: pa.ChunkedArray, flag) -> tuple[Coded, pa.ChunkedArray, bool]:
    as_number = pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
    coded, blank, _ = _coded(column)
    flag("branch-id-missing", "branch_id", blank, column)
    return coded, column, as_number


def _measure(column: pa.ChunkedArray, name: str, flag) -> tuple[np.ndarray, np.ndarray]:
    """Whole numbers >= 0 as int64, with a mask of the cells that hold one; blank is not zero."""
    typ = column.type
    if pa.types.is_signed_integer(typ):
        present = _np(column.is_valid())
        values = _np(column.cast(pa.int64()).fill_null(0))
        if not ((values < 0) | (values > MAX_COUNT)).any():  # the common case: one pass, nothing to flag
            return values, present
        too_large = present & ((values > MAX_COUNT) | (values < -MAX_COUNT))
        flag("too-large", name, too_large, column)
        negative = present & ~too_large & (values < 0)
        flag("negative", name, negative, column)
        return np.where(too_large, 0, values), present & ~too_large & ~negative
    if pa.types.is_integer(typ):
        present = _np(column.is_valid())
        # via float64, so a uint64 beyond int64 cannot overflow; below 10^15 every value is exact
        numbers = _np(column.cast(pa.float64(), safe=False).fill_null(0))
        too_large = present & (np.abs(numbers) >= 10.0 ** _MAX_DIGITS)
        flag("too-large", name, too_large, column)
        values = np.where(too_large, 0, numbers).astype(np.int64)
        negative = present & ~too_large & (values < 0)
        flag("negative", name, negative, column)
        return values, present & ~too_large & ~negative
    if pa.types.is_floating(typ):
        floats = _np(column.cast(pa.float64()).fill_null(np.nan))
        present = ~np.isnan(floats)
        whole = present & np.isfinite(floats) & (np.floor(floats) == floats)
        flag("not-whole-number", name, present & ~whole, column)
        too_large = whole & (np.abs(floats) >= 10.0 ** _MAX_DIGITS)
        flag("too-large", name, too_large, column)
        whole &= ~too_large
        values = np.where(whole, floats, 0).astype(np.int64)
        negative = whole & (values < 0)
        flag("negative", name, negative, column)
        return values, whole & ~negative
    try:  # the common case, plain integers in every cell: Arrow's cast parses them all at once
        as_int = column.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        as_int = None  # some cell is not a plain integer: sort them out one rule at a time below
    if as_int is not None and not any(pc.any(pc.match_substring(column, x)).as_py() for x in ("x", "X")):
        return _measure(as_int, name, flag)  # (Arrow would also read hex, 0x10: that stays invalid)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    # most cells are plain digits: parse those at once, and put only the others through every rule
    plain = _np(pc.fill_null(pc.match_substring_regex(column, _PLAIN), False))
    values = _np(pc.if_else(pa.array(plain), column, pa.scalar(None, pa.string())).cast(pa.int64()).fill_null(0))
    odd = np.flatnonzero(_np(column.is_valid()) & ~plain)
    if not len(odd):
        return values, plain
    odd_values, odd_ok, odd_broken = _text_cells(column.take(pa.array(odd)))
    values, ok = values.copy(), plain.copy()
    values[odd], ok[odd] = odd_values, odd_ok
    for rule, odd_mask in odd_broken.items():
        mask = np.zeros(len(plain), dtype=bool)
        mask[odd] = odd_mask
        flag(rule, name, mask, column)
    return values, ok


def _text_cells(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Cells that are not plain digits: trimmed, '12.0' and '+12' read as 12, the rest named."""
    text = _text(cells)
    present = _np(text.is_valid())
    is_whole = _np(pc.fill_null(pc.match_substring_regex(text, _WHOLE), False))
    digits = pc.replace_substring_regex(text, r"^\+|\.0*$", "")  # "+12.00" -> "12"
    unsigned = pc.replace_substring_regex(digits, r"^-", "")
    too_large = is_whole & (_np(pc.fill_null(pc.utf8_length(unsigned), 0)) > _MAX_DIGITS)
    whole = is_whole & ~too_large
    values = _np(pc.if_else(pa.array(whole), digits, pa.scalar(None, pa.string())).cast(pa.int64()).fill_null(0))
    negative = whole & (values < 0)
    broken = {"not-whole-number": present & ~is_whole, "too-large": too_large, "negative": negative}
    return values, whole & ~negative, broken


def _joined(*columns: pa.ChunkedArray):
    """Cells of several columns as 'a / b', for the given rows only."""
    def cells(rows: np.ndarray) -> list[str]:
        picked = [c.take(pa.array(rows)).to_pylist() for c in columns]
        return [" / ".join("(blank)" if v is None else str(v) for v in row) for row in zip(*picked)]
    return cells


def _examples(mask: np.ndarray, raw, lines: np.ndarray) -> tuple[Example, ...]:
    rows = np.flatnonzero(mask)[:MAX_EXAMPLES]
    values = raw(rows) if callable(raw) else raw.take(pa.array(rows)).to_pylist()
    return tuple(Example(int(lines[r]), "(blank)" if v is None else str(v)) for r, v in zip(rows, values))


def _frame(table: pa.Table, valid: np.ndarray, period: Coded, branch_id: Coded, measures, reported) -> pd.DataFrame:
    """The valid rows, typed: keys and labels as categoricals, measures as nullable Int64
    (a blank stays <NA>, never 0)."""
    keep = None if valid.all() else valid  # a boolean mask: several times faster than a list of rows
    columns = {"period": period.categorical(keep), "branch_id": branch_id.categorical(keep)}
    for label in ("branch_name", "region"):
        if label in table.column_names:
            columns[label] = _coded(table.column(label))[0].categorical(keep)
        else:
            columns[label] = pd.Categorical.from_codes(np.full(int(valid.sum()), -1), categories=pd.Index([], dtype="str"))
    for name in measures:
        values, blank = measures[name], ~reported[name]
        columns[name] = pd.arrays.IntegerArray(values, blank) if keep is None else \
            pd.arrays.IntegerArray(values[keep], blank[keep])
    return pd.DataFrame(columns)


def _completeness(frame: pd.DataFrame, branches: list[str] | None) -> list[DataWarning]:
    """A branch that silently stops reporting changes every bank-level ratio: name it."""
    out: list[DataWarning] = []
    if frame.empty:
        return out
    period = frame["period"].astype("category").array
    branch = frame["branch_id"].astype("category").array
    months, rows = np.unique(period.codes), np.unique(branch.codes)  # those that occur in the valid rows
    seen = np.zeros((len(branch.categories), len(period.categories)), dtype=bool)
    seen[branch.codes, period.codes] = True
    seen = seen[np.ix_(rows, months)]  # branch x month
    month_names = np.asarray(period.categories, dtype=object)[months]
    branch_names = np.asarray(branch.categories, dtype=object)[rows]
    gaps = np.flatnonzero(~seen.all(axis=1))
    if len(gaps):
        items = tuple(f"{branch_names[g]}: missing {', '.join(month_names[~seen[g]])}" for g in gaps)
        out.append(DataWarning("branch-missing-months",
                               f"{len(gaps)} branch(es) reported in some months of the file but not in others",
                               items))
    if branches is not None:
        in_file = set(branch_names)
        master = set(branches)
        absent = sorted(master - in_file)
        if absent:
            out.append(DataWarning("branch-not-in-file",
                                   f"{len(absent)} branch(es) of the master list do not appear in the file",
                                   tuple(absent)))
        unknown = sorted(in_file - master)
        if unknown:
            out.append(DataWarning("branch-not-in-master",
                                   f"{len(unknown)} branch(es) in the file are not on the master list",
                                   tuple(unknown)))
    return out


def _rejected(table: pa.Table, invalid: np.ndarray, broken: dict[str, np.ndarray], lines: np.ndarray) -> pa.Table:
    """The rejected rows as read, plus their line and the rules they break."""
    rows = np.flatnonzero(invalid)
    out = table.take(pa.array(rows, pa.int64()))
    none = pa.scalar(None, pa.string())
    labels = [pc.if_else(pa.array(mask[rows]), pa.scalar("{}({})".format(*key.split("|"))), none)
              for key, mask in broken.items()]  # one column per rule broken, null where not
    rules = pc.binary_join_element_wise(*labels, "; ", null_handling="skip") if labels else pa.array([], pa.string())
    out = out.append_column(_free(out, "_line"), pa.array(lines[rows], pa.int64()))
    return out.append_column(_free(out, "_rules"), rules)


def _free(table: pa.Table, name: str) -> str:
    """`name`, or `_name`, `__name`… if the export already has a column so called: the rows stay untouched."""
    while name in table.column_names:
        name = "_" + name
    return name


def load_branch_list(path: str | Path) -> list[str]:
    """A master list of branches: a CSV with a branch_id column, or one id per line."""
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read the branch list ({exc.strerror})", where=Location(path=str(path))) from None
    from .io import detect_encoding
    codec = detect_encoding(text)
    if codec == "unknown":
        raise InputFileError("cannot decode the branch list", where=Location(path=str(path)),
                             hint="Save it as UTF-8 or GBK")
    rows = [line.strip() for line in text.decode(codec).lstrip("\ufeff").splitlines()]
    rows = [r for r in rows if r]
    if rows and "," in rows[0]:
        header = [h.strip() for h in rows[0].split(",")]
        if "branch_id" not in header:
            raise InputFileError("the branch list has no branch_id column", where=Location(path=str(path), line=1),
                                 hint="Give a CSV with a branch_id column, or a file with one id per line")
        i = header.index("branch_id")
        return [r.split(",")[i].strip() for r in rows[1:]]
    if rows and rows[0] == "branch_id":
        rows = rows[1:]
    if not rows:
        raise InputFileError("the branch list is empty", where=Location(path=str(path)))
    return rows
