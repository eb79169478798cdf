"""PUB-02 draft lead time: violating cases and near-misses."""

from wxpipeline.checks.pub_01_06_publishing import DraftLeadTime

from .pub_frames import article, articles, evidence, full_chain, reviews, run, signoff


def test_four_days_ahead_passes():
    assert run("PUB-02", articles(article("A1")), reviews(*full_chain("A1"))).height == 0


def test_exactly_72_hours_passes_one_second_less_fires():
    ok = full_chain("A1", draft="2026-09-21 10:00:00")
    assert run("PUB-02", articles(article("A1")), reviews(*ok)).height == 0
    short = full_chain("A1", draft="2026-09-21 10:00:01")
    out = run("PUB-02", articles(article("A1")), reviews(*short))
    assert out["subject_id"].to_list() == ["A1"]
    assert evidence(out)["lead_hours"] == 72.0 and evidence(out)["draft_submitted_at"] == "2026-09-21 10:00:01"


def test_two_days_ahead_fires():
    out = run("PUB-02", articles(article("A1")), reviews(*full_chain("A1", draft="2026-09-22 10:00:00")))
    assert "48.0 小时" in out["summary"][0]


def test_expedited_is_exempt():
    chain = full_chain("A1", draft="2026-09-24 08:00:00", flags="expedited")
    assert run("PUB-02", articles(article("A1")), reviews(*chain)).height == 0


def test_missing_draft_and_no_record_fire():
    chain = [r for r in full_chain("A1") if r["stage"] != "draft_submitted"]
    out = run("PUB-02", articles(article("A1"), article("A2")), reviews(*chain))
    assert sorted(out["subject_id"].to_list()) == ["A1", "A2"]
    assert all("无草稿提交记录" in s for s in out["summary"])


def test_draft_after_publishing_fires():
    chain = full_chain("A1") + [signoff("A1", "draft_submitted", "2026-09-24 11:00:00")]
    out = run("PUB-02", articles(article("A1")), reviews(*chain[1:]))
    assert evidence(out)["lead_hours"] == -1.0


def test_threshold_comes_from_the_policy():
    chain = full_chain("A1", draft="2026-09-22 10:00:00")
    assert run("PUB-02", articles(article("A1")), reviews(*chain), params=DraftLeadTime(min_lead_hours=48)).height == 0
