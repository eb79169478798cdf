"""Input contracts on staged tables, validated with Great Expectations 1.x.

A contract states the required columns and their types (compared with the polars schema, which
is exact where pandas dtypes are not), the non-null and unique keys, value sets and ranges (as
GE expectations). The Dagster layer turns each contract into a blocking asset check, so a
malformed export stops its domain before findings are written. Great Expectations' context,
suites and validation live in `contract_ge`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from wxpipeline.checks.contract_ge import configurations_kept, ge_validate
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.hashes import DistinctKeys, repeat_count


@dataclass(frozen=True)
class Contract:
    table: str
    schema: dict[str, pl.DataType]
    not_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    value_sets: dict[str, tuple] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # (earlier, later): when both are given, later >= earlier (a leave before the hire is a typo)
    orderings: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        parts = [f"columns: {', '.join(self.schema)}"]
        if self.not_null:
            parts.append(f"non-null: {', '.join(self.not_null)}")
        if self.unique:
            parts.append(f"unique: {', '.join(self.unique)}")
        parts += [f"{c} in {{{', '.join(map(str, v))}}}" for c, v in self.value_sets.items()]
        parts += [f"{lo} <= {c} <= {hi}" for c, (lo, hi) in self.ranges.items()]
        parts += [f"{a} <= {b}" for a, b in self.orderings]
        return "; ".join(parts)


@dataclass
class ContractResult:
    passed: bool
    rows: int
    failures: list[dict]
    # where the unique key's distinctness over every row was established: "contract" (its
    # values hashed here), "staging" (`hashes.DistinctKeys` for this very file), "" (no unique key,
    # or not reached)
    unique_proven_by: str = ""


CONTRACTS: dict[str, Contract] = {}


def contract(c: Contract) -> Contract:
    CONTRACTS[c.table] = c
    return c


# Amounts: a WeChat Pay single transaction is capped far below 1,000,000 yuan; above is a parse error.
contract(Contract(
    "pay_bills", SCHEMAS["pay_bills"],
    not_null=("transaction_id", "traded_at", "amount", "account_nickname", "status", "trade_type"),
    unique=("transaction_id",),
    value_sets={"direction": ("支出", "收入", None)},
    ranges={"amount": (0, 1_000_000), "refunded_amount": (0, 1_000_000)},
))
contract(Contract(
    "ledger_entries", SCHEMAS["ledger_entries"],
    not_null=("entry_id", "paid_at", "amount", "employee_id"),
    unique=("entry_id",),
    ranges={"amount": (-1_000_000, 1_000_000)},
))
contract(Contract(
    "roster", SCHEMAS["roster"],
    not_null=("employee_id", "name", "hire_date", "is_leader"),
    unique=("employee_id",),
    orderings=(("hire_date", "leave_date"),),
))
contract(Contract(
    "group_registry", SCHEMAS["group_registry"],
    not_null=("group_id", "group_type", "registered_on", "allows_external"),
    unique=("group_id",),
    value_sets={"group_type": ("company", "department", "special", "temporary")},
))
contract(Contract(
    "pay_accounts", SCHEMAS["pay_accounts"],
    not_null=("account_nickname", "employee_id", "approved_on"),
    unique=("account_nickname",),
    orderings=(("approved_on", "revoked_on"),),
))
contract(Contract(
    "pay_approvals", SCHEMAS["pay_approvals"],
    not_null=("approval_id", "employee_id", "valid_from", "valid_to", "approved_limit"),
    unique=("approval_id",),
    ranges={"approved_limit": (0, 10_000_000)},
    orderings=(("valid_from", "valid_to"),),
))
# A WeChat publication holds at most 8 articles (idx 1..8).
contract(Contract(
    "mp_articles", SCHEMAS["mp_articles"],
    not_null=("article_id", "idx", "published_at", "is_deleted"),
    unique=("article_id", "idx"),
    ranges={"idx": (1, 8)},
))
contract(Contract(
    "mp_signoffs", SCHEMAS["mp_signoffs"],
    not_null=("article_id", "stage", "signer_employee_id", "signed_at", "flags"),
    unique=("article_id", "stage"),
    value_sets={"stage": ("draft_submitted", "dept_head_review", "division_lead_review", "editor", "proofread",
                          "platform_lead_approval", "top_leader_approval", "gm_report")},
))
# WeCom: value sets are the vendor's documented vocabularies (doc 91774, 92130, 92707).
contract(Contract(
    "wecom_messages", SCHEMAS["wecom_messages"],
    not_null=("msgid", "action", "sent_at", "msgtype"),
    unique=("msgid",),
    value_sets={"action": ("send", "recall", "switch")},
))
contract(Contract(
    "wecom_groups", SCHEMAS["wecom_groups"],
    not_null=("snapshot_time", "group_id", "member_count", "source_format"),
    unique=("snapshot_time", "group_id"),
    value_sets={"source_format": ("externalcontact", "msgaudit")},
    ranges={"member_count": (0, 100_000)},
))
contract(Contract(
    "wecom_group_members", SCHEMAS["wecom_group_members"],
    not_null=("snapshot_time", "group_id", "userid"),
    unique=("snapshot_time", "group_id", "userid"),
    value_sets={"member_type": (1, 2), "join_scene": (1, 2, 3), "join_method": ("invite", "qrcode")},
))
contract(Contract(
    "wecom_group_events", SCHEMAS["wecom_group_events"],
    not_null=("event_time", "group_id", "change_type", "update_detail"),
    unique=("group_id", "event_time", "change_type", "update_detail"),
    value_sets={"change_type": ("create", "update", "dismiss"), "join_scene": (0, 1, 2, 3), "quit_scene": (0, 1)},
))


# GE validates at most this many rows of a table: every row polars found breaking an expectation
# (up to SAMPLE_BAD per expectation) plus an even sample of the rest. The verdict and the
# unexpected counts come from polars over every row, computed from the same expectations.
SAMPLE_ROWS = 5_000
SAMPLE_BAD = 200


UNIQUE_KINDS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
NOT_NULL = "expect_column_values_to_not_be_null"

# A file staging wrote and proved (`hashes.DistinctKeys`) of at least this many rows takes the null
# counts its footer's statistics hold (the archive's key and time column) instead of counting
# them, and its GE sample from a streamed query of its own: the message ids are then decoded once,
# a row group at a time, where the one query of aggregates and sample held all of them (the 10M
# bench day: 0.80-0.96 -> 0.68-0.82 CPU s, ~135k fewer page faults; one thread, load 14). Smaller
# files keep the one query (a second costs ~1 ms).
FOOTER_ROWS = 1_000_000


def footer_null_counts(path, columns) -> dict[str, int]:
    """The null counts of `columns` (top-level, not nested) that the statistics of every row group
    in the parquet footer of `path` hold; a column without a count in some row group is left out."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    leaves = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
    counts = {}
    for col in columns:
        if col not in leaves:
            continue
        stats = [meta.row_group(g).column(leaves[col]).statistics for g in range(meta.num_row_groups)]
        if all(st is not None and st.has_null_count for st in stats):
            counts[col] = sum(st.null_count for st in stats)
    return counts


def _expectations(c: Contract) -> list[tuple[str, str, pl.Expr, pl.Expr]]:
    """(GE expectation type, column(s), polars predicate true on an unexpected row, aggregate that
    is 0 exactly when no row is unexpected) for every expectation of the suite, with GE's
    semantics: nulls are not unexpected except for not-null, and a compound key is skipped only
    when all its values are missing. The aggregates are cheaper than the predicates, so a passing
    table pays only them. A key's aggregate is the list of its 64-bit hashes, counted by
    `hashes.repeat_count` (sorted, a hash equal to the one before it: 4M message ids ~0.3 CPU s, polars'
    `n_unique` of the hashes ~0.5): distinct hashes prove distinct keys; a repeated hash (a
    duplicate, or rarely a collision) makes `validate` flag the rows on the key itself, and
    only rows flagged there count."""
    out = [(NOT_NULL, col, pl.col(col).is_null(), pl.col(col).null_count())
           for col in c.not_null]
    if len(c.unique) == 1:
        col = pl.col(c.unique[0])
        out.append(("expect_column_values_to_be_unique", c.unique[0], col.is_not_null() & col.is_duplicated(),
                    col.drop_nulls().hash().implode()))
    elif c.unique:
        any_given = pl.any_horizontal(pl.col(k).is_not_null() for k in c.unique)
        key = pl.struct(c.unique)
        out.append(("expect_compound_columns_to_be_unique", ",".join(c.unique), any_given & key.is_duplicated(),
                    key.filter(any_given).hash().implode()))
    for col, values in c.value_sets.items():
        allowed = [v for v in values if v is not None]
        bad = pl.col(col).is_not_null() & ~pl.col(col).is_in(allowed).fill_null(False)
        out.append(("expect_column_values_to_be_in_set", col, bad, bad.sum()))
    for col, (lo, hi) in c.ranges.items():
        v = pl.col(col).cast(pl.Float64)
        outside = pl.lit(False)
        if lo is not None:
            outside = outside | (v < lo)
        if hi is not None:
            outside = outside | (v > hi)
        bad = pl.col(col).is_not_null() & outside.fill_null(False)
        out.append(("expect_column_values_to_be_between", col, bad, bad.sum()))
    for earlier, later in c.orderings:  # GE skips a row when either value is missing
        bad = pl.col(earlier).is_not_null() & pl.col(later).is_not_null() & (pl.col(later) < pl.col(earlier))
        out.append(("expect_column_pair_values_a_to_be_greater_than_b", f"{earlier},{later}", bad, bad.sum()))
    return out


def _ge_sample(lf: pl.LazyFrame, used: list[str], flags: pl.DataFrame, height: int) -> pl.DataFrame:
    """The rows GE sees when polars flagged some: the even sample (every `height // SAMPLE_ROWS`-th
    row, at most SAMPLE_ROWS) plus up to SAMPLE_BAD flagged rows per failing expectation."""
    step = max(1, height // SAMPLE_ROWS)
    idx = pl.int_range(pl.len(), dtype=pl.UInt32)
    keep = (idx % step == 0) & (idx // step < SAMPLE_ROWS)
    for name in flags.columns:
        keep = keep | (pl.col(name) & (pl.col(name).cum_sum() <= SAMPLE_BAD))
    return pl.concat([lf.select(used), flags.lazy()], how="horizontal").filter(keep).select(used).collect()


def validate(table: str, staged: pl.DataFrame | pl.LazyFrame, proven: DistinctKeys | None = None) -> ContractResult:
    """Validate a staged table (lazy: only the columns the contract names are read).

    Types are compared with the polars schema. The expectations are evaluated by polars on
    every row (that decides pass/fail and gives unexpected counts and examples) and by Great
    Expectations on a bounded sample holding the offending rows; a failure GE reports on the
    sample that polars did not is a failure too.

    `proven`: staging's proof that the unique key is distinct over the file `staged` scans. When
    it holds for that file as it is now (same key, row count and file identity, checked before
    and after the read), the unique key's every-row check is that proof instead of hashing and
    sorting the key here again (4M message ids ~0.2 CPU s); every other expectation, and GE on
    the sample (the unique expectation included), runs as always. A proof that does not hold is
    ignored."""
    c = CONTRACTS[table]
    if proven is None or not c.unique or not proven.holds(c.unique):
        return _validate(c, staged, None)
    result = _validate(c, staged, proven)
    if result.unique_proven_by == "staging" and not proven.holds(c.unique):
        result = _validate(c, staged, None)  # the file changed while it was read: its values decide
    return result


def _validate(c: Contract, staged: pl.DataFrame | pl.LazyFrame, proven: DistinctKeys | None) -> ContractResult:
    lf = staged.lazy()
    schema = lf.collect_schema()
    failures = []
    for col, dtype in c.schema.items():
        if col not in schema:
            failures.append({"expectation": "column_exists", "column": col, "problem": "missing"})
        elif schema[col] != dtype:
            failures.append({"expectation": "column_type", "column": col,
                             "problem": f"type {schema[col]}, expected {dtype}"})
    height = lf.select(pl.len()).collect().item()
    if failures:
        return ContractResult(False, height, failures)
    if height == 0:
        return ContractResult(True, 0, [])
    used = [col for col in c.schema
            if col in {*c.not_null, *c.unique, *c.value_sets, *c.ranges, *(x for o in c.orderings for x in o)}]
    exps = _expectations(c)
    by = ""
    if c.unique:
        by = "contract"
        if proven is not None and proven.rows == height:
            # the unique key's aggregate is staging's proof for this file (see `validate`)
            exps = [(kind, col, bad, pl.lit(0) if kind in UNIQUE_KINDS else agg) for kind, col, bad, agg in exps]
            by = "staging"
    footer = {}
    if by == "staging" and height >= FOOTER_ROWS:  # a big file staging wrote (see FOOTER_ROWS)
        footer = footer_null_counts(proven.path, [col for kind, col, *_ in exps if kind == NOT_NULL])
        exps = [(kind, col, bad, pl.lit(footer[col]) if kind == NOT_NULL and col in footer else agg)
                for kind, col, bad, agg in exps]
    # the aggregates and the even sample GE sees when they pass (every step-th row, at most
    # SAMPLE_ROWS), in one read of the columns, or two (FOOTER_ROWS)
    sampled = used or list(schema)
    step = max(1, height // SAMPLE_ROWS)
    aggregates = [q.alias(f"_x{i}") for i, (*_, q) in enumerate(exps)]
    if footer:
        both = lf.select(*aggregates).collect()
        row = pl.col("_contract_row")  # numbered by the scan: streamed, the rows' own positions
        even = (lf.select(sampled).with_row_index("_contract_row").filter((row % step == 0) & (row // step < SAMPLE_ROWS))
                .drop("_contract_row").collect(engine="streaming"))
    else:
        both = lf.select(*aggregates, *(pl.col(col).gather_every(step).head(SAMPLE_ROWS).implode().alias(f"_s{j}")
                                        for j, col in enumerate(sampled))).collect()
        even = pl.DataFrame([both[f"_s{j}"][0].alias(col) for j, col in enumerate(sampled)])
    quick = [repeat_count(both[f"_x{i}"][0]) if both.schema[f"_x{i}"] == pl.List(pl.UInt64) else both[f"_x{i}"][0]
             for i in range(len(exps))]
    failing = [i for i, n in enumerate(quick) if n]
    flags = None
    if failing:  # only a failing contract pays for per-row flags, counts and examples
        flags = lf.select([exps[i][2].alias(f"_x{i}") for i in failing]).collect()
        failing = [i for i in failing if flags[f"_x{i}"].any()]  # a key hash collision flags no row
        flags = flags.select(f"_x{i}" for i in failing) if failing else None
        for i in failing:
            kind, column, _, _ = exps[i]
            cols = column.split(",")
            found = pl.concat([lf.select(cols), flags.lazy().select(f"_x{i}")], how="horizontal")
            found = found.filter(pl.col(f"_x{i}")).select(cols).head(5).collect()
            values = found[cols[0]].to_list() if len(cols) == 1 else found.rows()
            failures.append({"expectation": kind, "column": column, "unexpected_count": int(flags[f"_x{i}"].sum()),
                             "examples": [str(v) for v in values]})
    # GE reads pandas; decimals become floats for the range expectations.
    sample = even if flags is None else _ge_sample(lf, sampled, flags, height)
    pdf = sample.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).to_pandas()
    # A verdict alone costs GE half as much as counts and examples (~30 ms instead of ~65 ms a
    # table, paid by every staged table of every day): those are asked for only when needed.
    with configurations_kept():
        if not failures and ge_validate(c, pdf, "BOOLEAN_ONLY").success:
            return ContractResult(True, height, [], by)
        result = ge_validate(c, pdf, "SUMMARY")
    seen = {(f["expectation"], f["column"]) for f in failures}
    for r in result.results:
        cfg = r.expectation_config
        column = cfg.kwargs.get("column") or ",".join(
            cfg.kwargs.get("column_list", []) or [cfg.kwargs.get("column_B", ""), cfg.kwargs.get("column_A", "")])
        if not r.success and (cfg.type, column) not in seen:
            failures.append({
                "expectation": cfg.type, "column": column,
                "unexpected_count": r.result.get("unexpected_count"),
                "examples": [str(x) for x in (r.result.get("partial_unexpected_list") or [])[:5]],
                "note": "found by Great Expectations on the sample",
            })
    return ContractResult(not failures, height, failures, by)
