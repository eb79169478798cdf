"""The quarterly publishing review's pure computation."""

from datetime import date

import polars as pl

from wxpipeline.assets.publishing_review import TRIAGED_SCHEMA, quarterly_review
from tests.checks.pub_frames import article, articles, full_chain, reviews

CLAUSES = [f"PUB-0{i}" for i in range(1, 7)]


def test_quarters_medians_and_open_articles():
    arts = articles(article("Q3a", "2026-09-30 10:00:00"), article("Q3b", "2026-09-24 10:00:00"),
                    article("Q3b", "2026-09-24 10:00:00", idx=2), article("Q4a", "2026-10-09 12:00:00", deleted=True))
    revs = reviews(*full_chain("Q3a", draft="2026-09-26 10:00:00"), *full_chain("Q3b", draft="2026-09-20 10:00:00"))
    findings = pl.DataFrame([
        ("PUB-03", "Q3a", date(2026, 10, 1), "open", True),        # lands in Q4, counts for the Q3 article
        ("PUB-01", "Q3b", date(2026, 9, 24), "false_positive", False),
        ("PUB-06", "Q4a", date(2026, 10, 9), "confirmed", True),
        ("PUB-02", "GONE", date(2026, 12, 31), "open", True),     # article no longer in the exports
    ], schema=TRIAGED_SCHEMA, orient="row")
    summary, open_rows = quarterly_review(arts, revs, findings, CLAUSES)
    rows = {r["quarter"]: r for r in summary.iter_rows(named=True)}
    assert list(rows) == ["2026Q3", "2026Q4"]
    q3, q4 = rows["2026Q3"], rows["2026Q4"]
    assert (q3["articles_published"], q3["median_draft_to_publish_hours"]) == (2, 96.0)  # 96 h and 96 h
    assert (q3["findings_total"], q3["findings_PUB-03"], q3["findings_PUB-01"]) == (2, 1, 1)
    assert (q3["articles_with_findings"], q3["articles_with_open_findings"], q3["open_articles"]) == (2, 1, ["Q3a"])
    assert (q4["articles_published"], q4["articles_deleted"], q4["articles_with_draft_record"]) == (1, 1, 0)
    assert q4["median_draft_to_publish_hours"] is None
    assert sorted(q4["open_articles"]) == ["GONE", "Q4a"]
    assert open_rows.filter(pl.col("article_id") == "Q4a")["open_clauses"].to_list() == [["PUB-06"]]


def test_empty_inputs():
    summary, open_rows = quarterly_review(articles(), reviews(), pl.DataFrame(schema=TRIAGED_SCHEMA), CLAUSES)
    assert summary.height == 0 and open_rows.height == 0
