"""CSV machinery shared by the CSV export formats (ledger, reference files, WeChat Pay bills).

Files are read as text and split into one record per *physical* line, and the fields are split
with a polars regex instead of `pl.read_csv`: that keeps the exact 1-based line number of each
record (read_csv skips blank lines and aborts on a ragged row), lets one malformed line become
a `Reject` instead of failing the whole file, and copes with the vendors' quirks (a closing
quote followed by a TAB, bare quotes inside unquoted fields). The price is that a quoted field
spanning several lines is not supported: its fragments are rejected, loudly, never dropped.

Typing is vectorised: every column is parsed with a non-strict expression and a value that was
present but came out null is a bad value; the reasons are assembled per row with `concat_str`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from .common import ExportFormatError, ParseResult, Reject
from .encoding import Decoded, read_decoded
from wxpipeline.times import TS as TIMESTAMP, TZ_NAME as SHANGHAI

MONEY = pl.Decimal(18, 2)

# One CSV field preceded by its separator (a "," is prepended to the line so that no match is
# empty): either a quoted field, possibly followed by junk such as the WeChat export's TAB
# after the closing quote, or an unquoted field in which quotes are ordinary characters.
_FIELD = r',("(?:[^"]|"")*"[^,]*|[^,]*)'
_QUOTED = r'^"((?:[^"]|"")*)"(.*)$'

# ---------------------------------------------------------------------------------------------
# reading


def read_text(path: Path | str, what: str = "CSV") -> Decoded:
    """The file as text in its own encoding (UTF-8 with or without BOM, GB18030/GBK, UTF-16 with
    a BOM), with a Reject for each line that does not decode (see `encoding`)."""
    return read_decoded(path, what)


def text_lines(text: str) -> pl.DataFrame:
    """One row per physical line: `source_line` (Int64, 1-based) and `raw` (line ending removed).

    Splitting on LF and dropping a trailing CR handles both CRLF and LF files.
    """
    return (
        pl.DataFrame({"raw": [text]}, schema={"raw": pl.String})
        .select(pl.col("raw").str.split("\n").explode().str.strip_suffix("\r"))
        .with_row_index("source_line", offset=1)
        .with_columns(pl.col("source_line").cast(pl.Int64))
    )


def split_fields(raw: pl.Expr) -> pl.Expr:
    """A CSV line -> list of its unquoted fields (`""` inside quotes becomes `"`)."""
    field = pl.element().str.slice(1)  # drop the separator the pattern matched
    quoted = field.str.contains(_QUOTED)
    unquoted = (
        pl.when(quoted)
        .then(field.str.replace(_QUOTED, "${1}${2}").str.replace_all('""', '"', literal=True))
        .otherwise(field)
    )
    return pl.concat_str([pl.lit(","), raw]).str.extract_all(_FIELD).list.eval(unquoted)


def blank_fields(fields: pl.Expr) -> pl.Expr:
    """True for a line whose fields are all empty (`,,,,` padding lines, empty lines)."""
    return fields.list.eval(pl.element().str.strip_chars() != "").list.any().not_()


def field_count_reason(fields: pl.Expr, expected: int) -> pl.Expr:
    """Reason text when a record has too few fields, or extra fields that are not empty.

    Trailing empty columns are tolerated: spreadsheets pad rows with them.
    """
    n = fields.list.len()
    extra_filled = (
        fields.list.slice(expected).list.eval(pl.element().str.strip_chars() != "").list.any()
    )
    return (
        pl.when((n < expected) | ((n > expected) & extra_filled))
        .then(pl.format("expected {} fields, got {}", pl.lit(expected), n))
        .otherwise(None)
    )


# ---------------------------------------------------------------------------------------------
# value parsers: String expression -> typed expression, null when the text cannot be parsed


def text(expr: pl.Expr) -> pl.Expr:
    """Stripped string; empty -> null."""
    s = expr.str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def text_or_slash(expr: pl.Expr) -> pl.Expr:
    """Like `text`, and the WeChat export's `/` placeholder also means empty."""
    s = text(expr)
    return pl.when(s == "/").then(None).otherwise(s)


def _normalise_date_text(expr: pl.Expr) -> pl.Expr:
    # `YYYY/MM/DD` (Excel re-saves) and ISO `T` reduce to one separator set, so that one
    # format list covers them
    return (
        expr.str.strip_chars()
        .str.replace_all("/", "-", literal=True)
        .str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})T", "${1} ")
    )


def parse_date(expr: pl.Expr) -> pl.Expr:
    """`YYYY-MM-DD` or `YYYY/MM/DD` -> Date."""
    return _normalise_date_text(expr).str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def parse_local_datetime(expr: pl.Expr, *, allow_bare_date: bool = False) -> pl.Expr:
    """Local Asia/Shanghai wall time -> Datetime("us", "Asia/Shanghai").

    Accepts `YYYY-MM-DD HH:MM:SS[.f]`, `YYYY-MM-DDTHH:MM:SS`, `YYYY-MM-DD HH:MM` and the same
    with `/`; with `allow_bare_date` a bare date means 00:00.
    """
    s = _normalise_date_text(expr)
    candidates = [
        s.str.strptime(pl.Datetime("us"), fmt, strict=False)
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
    ]
    if allow_bare_date:
        candidates.append(s.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
    # non-existent wall times (PRC DST 1986-91) become null, hence a Reject, not an exception
    return pl.coalesce(candidates).dt.replace_time_zone(
        SHANGHAI, ambiguous="earliest", non_existent="null"
    )


# thousands separators only in their proper places; more than 2 decimals only as trailing zeros,
# because the Decimal cast would otherwise silently truncate 1.234 to 1.23
_MONEY_TEXT = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2}0*)?$"


def parse_money(expr: pl.Expr) -> pl.Expr:
    """`¥28.16`, `￥1,234.00`, `12`, `50.0` -> Decimal(18, 2); anything else -> null."""
    s = expr.str.strip_chars().str.replace_all(r"[¥￥\s]", "")
    ok = s.str.contains(_MONEY_TEXT)
    return (
        pl.when(ok)
        .then(s.str.replace_all(",", "", literal=True))
        .otherwise(None)
        .cast(MONEY, strict=False)
    )


_TRUE = ("true", "1", "是", "yes")
_FALSE = ("false", "0", "否", "no")


def parse_bool(expr: pl.Expr) -> pl.Expr:
    """true/false, 1/0, 是/否, yes/no (any case) -> Boolean."""
    mapping = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
    return (
        expr.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    )


# ---------------------------------------------------------------------------------------------
# typing with rejects


@dataclass(frozen=True)
class Field:
    """One output column built from the string column of the same name.

    `parse` maps the raw string to the typed value (null = unparseable or empty); `present` says
    which raw values count as given (so that "given but unparseable" is a bad value, and "not
    given" on a `required` field is a missing value). `label` names the field in reasons.
    """

    name: str
    parse: Callable[[pl.Expr], pl.Expr] = text
    required: bool = False
    label: str | None = None
    present: Callable[[pl.Expr], pl.Expr] = text
    what: str = "value"  # what the parse expects, for the reason text

    @property
    def shown(self) -> str:
        return self.label or self.name


@lru_cache(maxsize=256)
def _value_reason(f: Field) -> pl.Expr:
    """The field's reason expression, built once per field (an expression is immutable: a
    folder of small bills built the same ~40 polars expressions per field again for each file)."""
    raw = pl.col(f.name)
    given = f.present(raw).is_not_null()
    parsed = f.parse(raw)
    bad = given & parsed.is_null()
    missing = ~given if f.required else pl.lit(False)
    return (
        # a NUL byte is never part of a vendor value: a damaged file or a binary paste
        pl.when(raw.str.contains("\x00", literal=True))
        .then(pl.lit(f"{f.shown}: contains a NUL byte"))
        .when(bad)
        .then(pl.format("{}: cannot parse '{}' as {}", pl.lit(f.shown), raw, pl.lit(f.what)))
        .when(missing)
        .then(pl.lit(f"{f.shown}: missing"))
        .otherwise(None)
    )


@lru_cache(maxsize=256)
def _parsed(f: Field) -> pl.Expr:
    return f.parse(pl.col(f.name)).alias(f.name)


def type_fields(
    frame: pl.DataFrame,
    fields: Sequence[Field],
    file: str,
    *,
    extra_reasons: Sequence[pl.Expr] = (),
) -> tuple[pl.DataFrame, list[Reject]]:
    """Parse the string columns of `frame` (which also has `source_line` and `raw`).

    Returns the good rows with the typed columns (in `fields` order) plus `source_line`, and
    one `Reject` per bad row with every problem of that row in its reason.
    """
    reasons = [*extra_reasons, *(_value_reason(f) for f in fields)]
    checked = frame.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("_reason")
        if reasons
        else pl.lit("").alias("_reason")
    )
    bad = checked.filter(pl.col("_reason") != "")
    rejects = [
        Reject(file=file, line=line, reason=reason, raw=raw)
        for line, reason, raw in bad.select("source_line", "_reason", "raw").iter_rows()
    ]
    good = checked.filter(pl.col("_reason") == "").select(*(_parsed(f) for f in fields), "source_line")
    return good, rejects


# ---------------------------------------------------------------------------------------------
# headed CSV tables (ledger, reference files, ...)


def _header_names(fields: list[str]) -> list[str]:
    return [name.strip().strip("\ufeff").strip() for name in fields]


def read_table(
    path: Path | str,
    fields: Sequence[Field],
    *,
    kind: str = "CSV",
) -> ParseResult:
    """Read a CSV whose first non-blank line is a header naming (at least) all of `fields`.

    Columns are matched by name (order free, extra columns ignored); a missing column raises
    `ExportFormatError` naming it. Output: the typed `fields`, then `source_file` and
    `source_line` (1-based physical line).
    """
    path = Path(path)
    file = str(path)
    decoded = read_text(path, kind)
    lines = text_lines(decoded.text).with_columns(split_fields(pl.col("raw")).alias("_fields"))
    lines = lines.with_columns(blank_fields(pl.col("_fields")).alias("_blank"))
    nonblank = lines.filter(~pl.col("_blank"))
    if nonblank.height == 0:
        raise ExportFormatError(path, f"empty {kind} file: no header line")

    header_row = nonblank.row(0, named=True)
    header_line = header_row["source_line"]
    header = _header_names(header_row["_fields"])
    # trailing empty header cells are padding, not columns
    while header and header[-1] == "":
        header.pop()
    wanted = [f.name for f in fields]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ExportFormatError(
            path,
            f"{kind} header lacks required column(s) {', '.join(missing)}; "
            f"expected {','.join(wanted)}; found {','.join(header)}",
            header_line,
        )
    dupes = sorted({name for name in wanted if header.count(name) > 1})
    if dupes:
        raise ExportFormatError(
            path, f"{kind} header repeats column(s) {', '.join(dupes)}", header_line
        )

    records = nonblank.filter(pl.col("source_line") > header_line).with_columns(
        pl.col("_fields").list.get(header.index(name), null_on_oob=True).alias(name)
        for name in wanted
    )
    good, rejects = type_fields(
        records,
        fields,
        file,
        extra_reasons=[field_count_reason(pl.col("_fields"), len(header))],
    )
    frame = good.with_columns(pl.lit(file).alias("source_file")).select(
        *wanted, "source_file", "source_line"
    )
    meta = {
        "header_line": header_line,
        "records": records.height + len(decoded.rejects),
        "blank_lines": int(lines.filter(pl.col("_blank")).height) - len(decoded.rejects),
        **decoded.meta,
    }
    return ParseResult(frame=frame, rejects=sorted(decoded.rejects + rejects, key=lambda r: r.line), meta=meta)
