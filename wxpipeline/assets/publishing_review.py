"""Quarterly publishing review (公众号季度审查; 集团公司微信公众号管理暂行办法 第六章2 每季度进行一次全面的审查).

Design: one *unpartitioned* asset, recomputed by every daily run from the whole findings store and
the whole exports folder, holding one row per quarter that has a publication or a finding. So the
review of the running quarter is always current (quarter to date), a closed quarter's row reflects
the latest case triage (a finding marked false positive or waived stops counting as open), and the
daily job needs no second partitioning scheme. Everything is attributed to the quarter in which the
article was published (a PUB-03 finding dated 1 October about a 30 September article counts in Q3).

Per quarter: articles published (publications, by article_id), deleted ones, findings per clause,
median hours from draft submission to publication, and the articles with open findings (case open
or confirmed and no waiver in force: what fails the asset checks).
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from wxpipeline.factories import OWNERS
from wxpipeline.reports.markdown import markdown_table
from wxpipeline.checks.pub_01_06_publishing import publications
from wxpipeline.checks.registry import clauses_for
from wxpipeline.resources.exports import ExportsFolder
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store import triage as triage_store

TRIAGED_SCHEMA = {"clause_id": pl.String, "subject_id": pl.String, "partition_date": pl.Date,
                  "case_status": pl.String, "counted": pl.Boolean}


def quarter(day: pl.Expr) -> pl.Expr:
    """Date -> `2026Q3`."""
    return pl.format("{}Q{}", day.dt.year(), day.dt.quarter())


def quarterly_review(articles: pl.DataFrame, reviews: pl.DataFrame, findings: pl.DataFrame,
                     clause_ids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(summary: one row per quarter, open: one row per article with open findings).

    `articles` staged mp_published rows, `reviews` mp_reviews rows, `findings` the publishing
    findings with their triage (TRIAGED_SCHEMA).
    """
    pubs = publications(articles).with_columns(quarter(pl.col("publish_day")).alias("quarter"))
    drafts = reviews.filter(pl.col("stage") == "draft_submitted").select("article_id", draft_at="signed_at")
    lead = pubs.join(drafts, on="article_id", how="left").with_columns(
        ((pl.col("published_at") - pl.col("draft_at")).dt.total_seconds() / 3600).alias("lead_hours"))
    per_q = lead.group_by("quarter").agg(
        pl.len().cast(pl.Int64).alias("articles_published"),
        pl.col("is_deleted").sum().cast(pl.Int64).alias("articles_deleted"),
        pl.col("lead_hours").is_not_null().sum().cast(pl.Int64).alias("articles_with_draft_record"),
        pl.col("lead_hours").median().round(1).alias("median_draft_to_publish_hours"),
    )
    f = findings.join(pubs.select(pl.col("article_id").alias("subject_id"), "quarter", "title", "publish_day"),
                      on="subject_id", how="left").with_columns(
        pl.coalesce("quarter", quarter(pl.col("partition_date"))).alias("quarter"))
    counts = (
        f.group_by("quarter").agg(
            pl.len().cast(pl.Int64).alias("findings_total"),
            *(pl.col("clause_id").eq(c).sum().cast(pl.Int64).alias(f"findings_{c}") for c in clause_ids),
            pl.col("subject_id").n_unique().cast(pl.Int64).alias("articles_with_findings"),
            pl.col("subject_id").filter(pl.col("counted")).n_unique().cast(pl.Int64).alias("articles_with_open_findings"),
        )
    )
    open_rows = (
        f.filter(pl.col("counted")).sort("subject_id", "clause_id")
        .group_by("quarter", "subject_id").agg(
            pl.col("title").first(), pl.col("publish_day").first(),
            pl.col("clause_id").unique(maintain_order=True).alias("open_clauses"),
            pl.col("case_status").unique(maintain_order=True).alias("case_statuses"),
        )
        .rename({"subject_id": "article_id"})
        .sort("quarter", "publish_day", "article_id", nulls_last=True)
    )
    open_lists = open_rows.group_by("quarter").agg(pl.col("article_id").alias("open_articles"))
    zero = [pl.col(c).fill_null(0) for c in ("articles_published", "articles_deleted", "articles_with_draft_record",
                                             "findings_total", "articles_with_findings", "articles_with_open_findings",
                                             *(f"findings_{c}" for c in clause_ids))]
    summary = (
        per_q.join(counts, on="quarter", how="full", coalesce=True)
        .join(open_lists, on="quarter", how="left")
        .with_columns(*zero, pl.col("open_articles").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .sort("quarter")
    )
    return summary, open_rows


def _triaged(warehouse: Warehouse) -> pl.DataFrame:
    """Every publishing finding with its triage, as the asset checks count it."""
    rows = [{k: r[k] for k in TRIAGED_SCHEMA} for r in triage_store.domain_status(warehouse, "publishing")]
    return pl.DataFrame(rows, schema=TRIAGED_SCHEMA)


@dg.asset(
    name="publishing_quarterly_review",
    group_name="publishing",
    deps=["publishing_findings", "mp_articles", "mp_signoffs"],  # keys: publishing.py imports this module
    io_manager_key="staged_io",
    kinds={"polars", "parquet"},
    owners=OWNERS,
    description=(
        "公众号季度审查: per quarter (by publish day) articles published, findings per PUB clause, median hours "
        "from draft submission to publication and the articles with open findings. Unpartitioned, recomputed "
        "by every daily run from the findings store (with case triage) and the exports; the latest quarter's "
        "figures are the numeric metadata, every quarter is in the markdown table."
    ),
)
def publishing_quarterly_review(exports: ExportsFolder, warehouse: Warehouse) -> dg.Output:
    clause_ids = [c.id for c in clauses_for("publishing")]
    articles = exports.scan("mp_published").frame.collect()
    reviews = exports.scan("mp_reviews").frame.filter(pl.col("stage") == "draft_submitted").collect()
    summary, open_rows = quarterly_review(articles, reviews, _triaged(warehouse), clause_ids)
    meta: dict = {"dagster/row_count": dg.MetadataValue.int(summary.height)}
    if summary.height:
        last = summary.row(summary.height - 1, named=True)
        median = last["median_draft_to_publish_hours"]
        meta |= {
            "quarter": dg.MetadataValue.text(last["quarter"]),
            "articles_published": dg.MetadataValue.int(last["articles_published"]),
            "median_draft_to_publish_hours": dg.MetadataValue.float(float(median) if median is not None else float("nan")),
            "findings_total": dg.MetadataValue.int(last["findings_total"]),
            "articles_with_open_findings": dg.MetadataValue.int(last["articles_with_open_findings"]),
            **{f"findings_{c.replace('-', '_')}": dg.MetadataValue.int(last[f"findings_{c}"]) for c in clause_ids},
        }
    meta["quarters"] = dg.MetadataValue.md(markdown_table(summary.drop("open_articles")))
    latest = open_rows.filter(pl.col("quarter") == summary["quarter"].max()) if summary.height else open_rows
    meta["open_articles_latest_quarter"] = dg.MetadataValue.md(markdown_table(
        latest.head(50).with_columns(pl.col("open_clauses", "case_statuses").list.join(", "))))
    return dg.Output(summary, metadata=meta)
