"""Publishing domain: official-account publications and their review sign-offs, judged against
PUB-01..PUB-06; the quarterly publishing review is in `publishing_review.py`."""

from datetime import timedelta

import polars as pl

from wxpipeline.factories.findings import JudgeContext, build_findings_asset
from wxpipeline.factories.staged import build_staged_asset
from wxpipeline.assets.publishing_review import publishing_quarterly_review
from wxpipeline.checks.wordlists import load_word_lists
from wxpipeline.times import day_start

mp_articles = build_staged_asset(
    "mp_articles", "mp_published", "publishing",
    "公众号已发布文章 from mp_published/*.json (freepublish/batchget pages), one row per article of a "
    "publication (article_id, idx) whose publish time (update_time) falls on the partition day; HTML content "
    "kept with its text (content_text). Deleted articles stay, flagged. Drafts and status responses found in "
    "the folder go to the quarantine table with their reason.",
)
mp_signoffs = build_staged_asset(
    "mp_signoffs", "mp_reviews", "publishing",
    "公众号发布审核签字 from mp_reviews/*.csv, one row per (article_id, stage) signed on the partition day, "
    "with the important / expedited / repost flags. Rules read an article's sign-offs whatever day they were "
    "signed on.",
)

def publishing_frames(jc: JudgeContext) -> dict[str, pl.DataFrame]:
    """The day's publications (the staged, contract-checked partition) plus those of the
    preceding `windows.publish_lookback_days` (PUB-03 lands after the publish day), their
    sign-offs from `windows.signoff_lookback_days` before the earliest of them up to the day,
    all from the staged partitions declared upstream, and the policy's word lists."""
    today = jc.staged.read("mp_articles", jc.partition_key)
    w = jc.policy.windows
    back = max(w.publish_lookback_days, jc.policy.params("PUB-03").report_days_after_publish + 1)
    start = day_start(jc.day)
    earlier = jc.upstream.window("mp_articles", start - timedelta(days=back), start).collect()
    articles = pl.concat([today, earlier], how="diagonal_relaxed").unique(["article_id", "idx"], keep="first")
    ids = articles["article_id"].unique().implode()
    reviews = (
        jc.upstream.window("mp_signoffs", start - timedelta(days=back + w.signoff_lookback_days),
                           start + timedelta(days=1))
        .filter(pl.col("article_id").is_in(ids)).collect()
        .unique(["article_id", "stage"], keep="last", maintain_order=True)
    )
    return {"articles": articles, "reviews": reviews, "word_lists": load_word_lists(jc.policy)}


publishing_findings = build_findings_asset(
    "publishing",
    deps=[mp_articles, mp_signoffs],
    build_frames=publishing_frames,
    description=(
        "公众号发布合规发现 (PUB-01 审核签字, PUB-02 草稿提前三天, PUB-03 加急报告总经理, PUB-04 审批当天发布, "
        "PUB-05 转载注明来源, PUB-06 违禁内容) for the partition day (the publish day; PUB-03 lands on the day "
        "after it), written to the `findings` table. One asset check per clause: WARN when unwaived findings remain."
    ),
)

publishing_assets = [mp_articles, mp_signoffs, publishing_findings, publishing_quarterly_review]
publishing_checks: list = []  # the tables' contracts are checks of the tables themselves (factories/staged.py)
