"""Official-account publishing clauses PUB-01..PUB-06 (公众号发布审核).

Frames (staged columns, see wxpipeline/formats): `articles` (mp_published: one row per article
of a publication, `article_id` + `idx`; the asset passes the publications of the judged day
and of the days before it that PUB-03 still judges), `reviews` (mp_reviews sign-offs of those
articles, whatever day they were signed), `word_lists` (category, term, file, line).

An article's flags are the union over its review rows; its owner (`employee_id` of the
finding) is the signer of its `draft_submitted` stage, the person who filed it for review.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import polars as pl

from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.registry import Params, clause
from wxpipeline.checks.textnorm import fold_width
from wxpipeline.checks.wordlists import category_label, find_terms
from wxpipeline.times import fmt_ts

PLATFORM = "公司微信公众平台管理制度"
GROUP_MP = "集团公司微信公众号管理暂行办法"

Stage = Literal["draft_submitted", "dept_head_review", "division_lead_review", "editor", "proofread",
                "platform_lead_approval", "top_leader_approval", "gm_report"]
STAGE_ZH = {
    "draft_submitted": "提交草稿", "dept_head_review": "部门负责人审核", "division_lead_review": "分管领导复核",
    "editor": "责任编辑", "proofread": "校对", "platform_lead_approval": "平台主管领导审批",
    "top_leader_approval": "主要领导审批", "gm_report": "向总经理报告",
}


# ---- shared shapes ------------------------------------------------------------------------------


def publications(articles: pl.DataFrame) -> pl.DataFrame:
    """One row per article_id: publish time and day, first title, item count, deleted flag."""
    return (
        articles.sort("article_id", "idx")
        .group_by("article_id", maintain_order=True)
        .agg(
            pl.col("published_at").min(),
            pl.col("title").first(),
            pl.len().alias("items"),
            pl.col("is_deleted").fill_null(False).any().alias("is_deleted"),
        )
        .with_columns(pl.col("published_at").dt.date().alias("publish_day"))
    )


def article_flags(reviews: pl.DataFrame) -> pl.DataFrame:
    """article_id -> important, expedited, repost (any review row), owner (draft submitter)."""
    return reviews.group_by("article_id").agg(
        *(pl.col(f).fill_null(False).any() for f in ("important", "expedited", "repost")),
        pl.col("signer_employee_id").filter(pl.col("stage") == "draft_submitted").first().alias("employee_id"),
    )


def _judged(articles: pl.DataFrame, reviews: pl.DataFrame, publish_day: date) -> pl.DataFrame:
    pubs = publications(articles).filter(pl.col("publish_day") == publish_day)
    return pubs.join(article_flags(reviews), on="article_id", how="left").with_columns(
        *(pl.col(f).fill_null(False) for f in ("important", "expedited", "repost"))
    )


def _signed(reviews: pl.DataFrame, stage: str, name: str) -> pl.DataFrame:
    return reviews.filter(pl.col("stage") == stage).select(
        "article_id", pl.col("signed_at").alias(name), pl.col("signer_employee_id").alias(f"{name}_by")
    )


def _title(max_chars: int = 30) -> pl.Expr:
    t = pl.col("title").fill_null("(无标题)")
    return pl.when(t.str.len_chars() > max_chars).then(t.str.slice(0, max_chars) + "…").otherwise(t)


def _finding(day_col: pl.Expr, summary: pl.Expr, evidence: pl.Expr) -> list[pl.Expr]:
    return [pl.col("article_id").alias("subject_id"), day_col.alias("partition_date"), "employee_id",
            summary.alias("summary"), evidence]


# ---- PUB-01 ---------------------------------------------------------------------------------------


class SignOffs(Params):
    required_stages: list[Stage]
    important_stages: list[Stage]


@clause(
    "PUB-01",
    domain="publishing",
    title="发布审核签字齐全",
    text="已发布文章须在发布时间之前取得部门负责人审核、分管领导复核、平台主管领导审批签字；审核单标记为重要的，"
         "还须主要领导（党政一把手）审批。晚于发布时间的签字视同缺失。",
    source=f"{PLATFORM} 第七条, 第十一条; 微信管理办法 第十二条",
    subject="{article_id}",
    params=SignOffs,
)
def pub_01_signoffs(articles: pl.DataFrame, reviews: pl.DataFrame, params: SignOffs, day: date) -> pl.DataFrame:
    arts = _judged(articles, reviews, day)
    needed = pl.DataFrame(
        {"stage": [*params.required_stages, *params.important_stages],
         "only_important": [False] * len(params.required_stages) + [True] * len(params.important_stages)},
        schema={"stage": pl.String, "only_important": pl.Boolean},
    ).unique("stage", keep="first", maintain_order=True)
    signed = reviews.select("article_id", "stage", "signed_at", "signer_employee_id")
    checked = (
        arts.join(needed, how="cross")
        .filter(~pl.col("only_important") | pl.col("important"))
        .join(signed, on=["article_id", "stage"], how="left")
        .with_columns(
            pl.when(pl.col("signed_at").is_null()).then(pl.lit("missing"))
            .when(pl.col("signed_at") >= pl.col("published_at")).then(pl.lit("late"))
            .alias("problem")
        )
        .filter(pl.col("problem").is_not_null())
    )
    zh = pl.col("stage").replace_strict(STAGE_ZH, return_dtype=pl.String)
    per = checked.group_by("article_id", maintain_order=True).agg(
        pl.col("stage").filter(pl.col("problem") == "missing").alias("missing"),
        zh.filter(pl.col("problem") == "missing").alias("missing_zh"),
        pl.struct("stage", signed_at=fmt_ts("signed_at"), signer=pl.col("signer_employee_id"))
        .filter(pl.col("problem") == "late").alias("late"),
        zh.filter(pl.col("problem") == "late").alias("late_zh"),
    )
    out = arts.join(per, on="article_id", how="inner")
    parts = pl.concat_str(
        pl.when(pl.col("missing_zh").list.len() > 0).then(pl.format("缺少{}", pl.col("missing_zh").list.join("、"))),
        pl.when(pl.col("late_zh").list.len() > 0).then(pl.format("{}签字晚于发布", pl.col("late_zh").list.join("、"))),
        separator="；", ignore_nulls=True,
    )
    return out.select(_finding(
        pl.col("publish_day"),
        pl.format("文章《{}》（{}）发布前审核签字不全：{}", _title(), "article_id", parts),
        evidence_json(
            published_at=fmt_ts("published_at"), important=pl.col("important"), missing_stages=pl.col("missing"),
            late_stages=pl.col("late"), is_deleted=pl.col("is_deleted"), title=pl.col("title"),
        ),
    ))


# ---- PUB-02 ---------------------------------------------------------------------------------------


class DraftLeadTime(Params):
    min_lead_hours: float


@clause(
    "PUB-02",
    domain="publishing",
    title="草稿提前三天提交",
    text="内容草稿须在发布前至少 3 天（72 小时，恰好 72 小时合格）提交草稿；审核单标记加急的除外。"
         "没有草稿提交记录（含无审核单）的文章同样违规。",
    source=f"{GROUP_MP} 第2条2",
    subject="{article_id}",
    params=DraftLeadTime,
)
def pub_02_draft_lead_time(articles: pl.DataFrame, reviews: pl.DataFrame, params: DraftLeadTime, day: date) -> pl.DataFrame:
    arts = _judged(articles, reviews, day).filter(~pl.col("expedited"))
    need = pl.duration(seconds=round(params.min_lead_hours * 3600))
    judged = arts.join(_signed(reviews, "draft_submitted", "draft_at"), on="article_id", how="left").with_columns(
        ((pl.col("published_at") - pl.col("draft_at")).dt.total_seconds() / 3600).round(1).alias("lead_hours")
    )
    bad = judged.filter(pl.col("draft_at").is_null() | ((pl.col("published_at") - pl.col("draft_at")) < need))
    why = (
        pl.when(pl.col("draft_at").is_null()).then(pl.lit("无草稿提交记录"))
        .otherwise(pl.format("草稿仅提前 {} 小时提交（要求 {} 小时）", pl.col("lead_hours"),
                             pl.lit(f"{params.min_lead_hours:g}")))
    )
    return bad.select(_finding(
        pl.col("publish_day"),
        pl.format("文章《{}》（{}）{}", _title(), "article_id", why),
        evidence_json(
            published_at=fmt_ts("published_at"), draft_submitted_at=fmt_ts("draft_at"),
            draft_submitted_by=pl.col("draft_at_by"), lead_hours=pl.col("lead_hours"),
            required_hours=pl.lit(params.min_lead_hours), expedited=pl.col("expedited"), title=pl.col("title"),
        ),
    ))


# ---- PUB-03 ---------------------------------------------------------------------------------------


class GmReport(Params):
    report_days_after_publish: int


@clause(
    "PUB-03",
    domain="publishing",
    title="加急发布报告总经理",
    text="标记加急的文章须不晚于发布当日完成向总经理报告。期限为发布日结束，违规计入发布日的次日。",
    source=f"{GROUP_MP} 第2条2",
    subject="{article_id}",
    params=GmReport,
)
def pub_03_gm_report(articles: pl.DataFrame, reviews: pl.DataFrame, params: GmReport, day: date) -> pl.DataFrame:
    # the deadline is the end of publish day + N: the breach is certain on the day after it
    publish_day = day - timedelta(days=params.report_days_after_publish + 1)
    deadline = publish_day + timedelta(days=params.report_days_after_publish)
    arts = _judged(articles, reviews, publish_day).filter(pl.col("expedited"))
    judged = arts.join(_signed(reviews, "gm_report", "gm_at"), on="article_id", how="left")
    bad = judged.filter(pl.col("gm_at").is_null() | (pl.col("gm_at").dt.date() > deadline))
    why = (
        pl.when(pl.col("gm_at").is_null()).then(pl.lit("无向总经理报告记录"))
        .otherwise(pl.format("向总经理报告迟至 {}", fmt_ts("gm_at")))
    )
    return bad.select(_finding(
        pl.lit(day),
        pl.format("加急文章《{}》（{}）{}（期限 {}）", _title(), "article_id", why, pl.lit(deadline.isoformat())),
        evidence_json(
            published_at=fmt_ts("published_at"), gm_report_at=fmt_ts("gm_at"), gm_report_by=pl.col("gm_at_by"),
            deadline=pl.lit(deadline.isoformat()), expedited=pl.col("expedited"), title=pl.col("title"),
        ),
    ))


# ---- PUB-04 ---------------------------------------------------------------------------------------


class ApprovalDay(Params):
    # the first of these stages that the article has is its last approval
    last_approval_precedence: list[Stage]


@clause(
    "PUB-04",
    domain="publishing",
    title="审批当天发布",
    text="文章须在最后一级审批（有主要领导审批时为该审批，否则为平台主管领导审批）的当天发布；"
         "没有任一审批的文章由 PUB-01 处理。",
    source=f"{PLATFORM} 第十一条7; 公司网站、微博、微信管理办法 第十一条",
    subject="{article_id}",
    params=ApprovalDay,
)
def pub_04_same_day(articles: pl.DataFrame, reviews: pl.DataFrame, params: ApprovalDay, day: date) -> pl.DataFrame:
    arts = _judged(articles, reviews, day)
    rank = {s: i for i, s in enumerate(params.last_approval_precedence)}
    last = (
        reviews.filter(pl.col("stage").is_in(list(rank)))
        .with_columns(pl.col("stage").replace_strict(rank, return_dtype=pl.Int64).alias("_rank"))
        .sort("article_id", "_rank")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("stage").first().alias("approval_stage"), pl.col("signed_at").first().alias("approved_at"),
             pl.col("signer_employee_id").first().alias("approved_by"))
    )
    bad = arts.join(last, on="article_id", how="inner").filter(
        pl.col("approved_at").dt.date() != pl.col("publish_day")
    ).with_columns((pl.col("publish_day") - pl.col("approved_at").dt.date()).dt.total_days().alias("days_apart"))
    return bad.select(_finding(
        pl.col("publish_day"),
        pl.format("文章《{}》（{}）于 {} 发布，最后审批（{}）在 {}，未当天发布", _title(), "article_id",
                  pl.col("publish_day").cast(pl.String),
                  pl.col("approval_stage").replace_strict(STAGE_ZH, return_dtype=pl.String),
                  pl.col("approved_at").dt.date().cast(pl.String)),
        evidence_json(
            published_at=fmt_ts("published_at"), approval_stage=pl.col("approval_stage"),
            approved_at=fmt_ts("approved_at"), approved_by=pl.col("approved_by"),
            days_publish_after_approval=pl.col("days_apart"), title=pl.col("title"),
        ),
    ))


# ---- PUB-05 ---------------------------------------------------------------------------------------


class RepostSource(Params):
    repost_markers: list[str]
    # phrases containing a repost marker that do not mean "this is a repost" (禁止转载 footers)
    repost_marker_exclusions: list[str]
    source_markers: list[str]


def _fold(expr: pl.Expr) -> pl.Expr:
    """Full-width -> half-width and whitespace removed: `来源 ：` reads `来源:`."""
    return fold_width(expr).str.replace_all(r"\s+", "")


def _folded(values: list[str]) -> list[str]:
    return [v for v in pl.select(_fold(pl.lit(pl.Series(values, dtype=pl.String)))).to_series().to_list() if v]


@clause(
    "PUB-05",
    domain="publishing",
    title="转载注明来源",
    text="审核单标记转载、或正文含“转载”的文章，须填写原文链接或在正文中注明来源"
         "（“来源:”“转自”“原文链接”“出处:”，全角冒号同样有效）。",
    source=f"{PLATFORM} 第十一条1; 公司微信账号管理制度 四1",
    subject="{article_id}",
    params=RepostSource,
)
def pub_05_repost_source(articles: pl.DataFrame, reviews: pl.DataFrame, params: RepostSource, day: date) -> pl.DataFrame:
    flags = _judged(articles, reviews, day).select("article_id", "publish_day", "published_at", "employee_id",
                                                   "repost", pl.col("is_deleted").alias("publication_deleted"))
    text = _fold(pl.col("content_text").fill_null(""))
    exclusions = _folded(params.repost_marker_exclusions)
    stripped = text.str.replace_many(exclusions, [""] * len(exclusions)) if exclusions else text
    items = articles.join(flags, on="article_id", how="inner").with_columns(
        stripped.str.contains_any(_folded(params.repost_markers)).alias("marked_in_text"),
        (pl.col("content_source_url").fill_null("").str.strip_chars() != "").alias("has_url"),
        text.str.contains_any(_folded(params.source_markers)).alias("has_source_line"),
    )
    bad = items.filter((pl.col("repost") | pl.col("marked_in_text")) & ~pl.col("has_url") & ~pl.col("has_source_line"))
    why = pl.when(pl.col("repost")).then(pl.lit("审核单标记转载")).otherwise(pl.lit("正文含“转载”"))
    per = bad.sort("article_id", "idx").group_by("article_id", maintain_order=True).agg(
        pl.col("publish_day", "published_at", "employee_id", "publication_deleted", "title", "idx").first(),
        pl.struct("idx", "title", reason=why).alias("items"),
        why.first().alias("why"),
    )
    which = pl.when(pl.col("idx") > 1).then(pl.format(" 第{}篇", "idx")).otherwise(pl.lit(""))
    return per.select(_finding(
        pl.col("publish_day"),
        pl.format("转载文章《{}》（{}{}）未注明来源（{}）", _title(), "article_id", which, "why"),
        evidence_json(
            published_at=fmt_ts("published_at"), items=pl.col("items"), content_source_url=pl.lit(""),
            accepted_source_markers=pl.lit(pl.Series([params.source_markers])),
            is_deleted=pl.col("publication_deleted"),
        ),
    ))


# ---- PUB-06 ---------------------------------------------------------------------------------------


class ProhibitedContent(Params):
    categories: list[str]
    allow_lists: list[str]
    fields: list[Literal["title", "digest", "author", "content_text"]]
    snippet_context_chars: int
    max_hits_in_evidence: int


@clause(
    "PUB-06",
    domain="publishing",
    title="文章禁止内容",
    text="文章标题、摘要、作者和正文（去除 HTML）不得含有政治、色情、赌博、毒品、暴恐（含枪支）、邪教/迷信类违禁词"
         "（与 CHAT-01 同一词表，经繁简、全半角、大小写及分隔符归一化，允许词表中的词组除外）。",
    source=f"{GROUP_MP} 第2条1; 官方微信公众账号管理办法 第五条",
    subject="{article_id}",
    params=ProhibitedContent,
)
def pub_06_prohibited_content(
    articles: pl.DataFrame, reviews: pl.DataFrame, word_lists: pl.DataFrame, params: ProhibitedContent, day: date
) -> pl.DataFrame:
    arts = _judged(articles, reviews, day).select("article_id", "publish_day", "published_at", "employee_id",
                                                  "is_deleted")
    items = articles.join(arts.select("article_id"), on="article_id", how="semi")
    texts = items.unpivot(index=["article_id", "idx"], on=params.fields, variable_name="field", value_name="text")
    hits = find_terms(texts.filter(pl.col("text").is_not_null()), text="text", word_lists=word_lists,
                      categories=params.categories, allow=params.allow_lists, context=params.snippet_context_chars)
    label = pl.col("category").replace_strict({c: category_label(c) for c in params.categories},
                                              default=pl.col("category"), return_dtype=pl.String)
    per = hits.sort("article_id", "idx", "field", "offset").group_by("article_id", maintain_order=True).agg(
        pl.len().alias("n"),
        label.unique(maintain_order=True).alias("labels"),
        pl.col("category").unique(maintain_order=True).alias("categories"),
        pl.col("matched").first().alias("example"),
        pl.struct("idx", "field", "category", "term", "offset", "length", "offset_basis", "snippet")
        .head(params.max_hits_in_evidence).alias("hits"),
    )
    out = arts.join(per, on="article_id", how="inner")
    return out.select(_finding(
        pl.col("publish_day"),
        pl.format("文章 {} 含违禁内容 {} 处：{}（如「{}」）", "article_id", "n", pl.col("labels").list.join("、"), "example"),
        evidence_json(
            published_at=fmt_ts("published_at"), hit_count=pl.col("n"), categories=pl.col("categories"),
            hits=pl.col("hits"), offsets_in=pl.lit("the field's text; content_text = content with HTML stripped"),
            is_deleted=pl.col("is_deleted"),
        ),
    ))
