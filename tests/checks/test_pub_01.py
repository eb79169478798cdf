"""PUB-01 sign-off chain: violating cases and near-misses."""

from wxpipeline.checks.pub_01_06_publishing import pub_01_signoffs
from wxpipeline.checks.registry import CLAUSES

from .pub_frames import DAY, article, articles, evidence, full_chain, reviews, run, signoff


def test_complete_chain_before_publishing_passes():
    assert run("PUB-01", articles(article("A1")), reviews(*full_chain("A1"))).height == 0


def test_editor_and_proofread_are_not_required():
    chain = [r for r in full_chain("A1") if r["stage"] not in ("editor", "proofread")]
    assert run("PUB-01", articles(article("A1")), reviews(*chain)).height == 0


def test_missing_stage_fires_with_evidence():
    chain = [r for r in full_chain("A1") if r["stage"] != "division_lead_review"]
    out = run("PUB-01", articles(article("A1")), reviews(*chain))
    assert out["subject_id"].to_list() == ["A1"] and out["partition_date"].to_list() == [DAY]
    ev = evidence(out)
    assert ev["missing_stages"] == ["division_lead_review"] and ev["late_stages"] == []
    assert "分管领导复核" in out["summary"][0]
    assert out["employee_id"].to_list() == ["E0012"]  # the draft submitter owns the article


def test_signature_one_minute_after_publishing_is_late():
    chain = full_chain("A1", approve="2026-09-24 10:01:00")
    out = run("PUB-01", articles(article("A1")), reviews(*chain))
    ev = evidence(out)
    assert ev["missing_stages"] == []
    assert ev["late_stages"] == [{"stage": "platform_lead_approval", "signed_at": "2026-09-24 10:01:00", "signer": "E0011"}]


def test_signature_at_the_publish_second_is_late_one_second_before_is_not():
    at = run("PUB-01", articles(article("A1")), reviews(*full_chain("A1", approve="2026-09-24 10:00:00")))
    assert at.height == 1
    before = run("PUB-01", articles(article("A1")), reviews(*full_chain("A1", approve="2026-09-24 09:59:59")))
    assert before.height == 0


def test_important_needs_top_leader():
    out = run("PUB-01", articles(article("A1")), reviews(*full_chain("A1", flags="important")))
    assert evidence(out)["missing_stages"] == ["top_leader_approval"] and evidence(out)["important"] is True
    signed = full_chain("A1", flags="important", extra=(signoff("A1", "top_leader_approval", "2026-09-24 09:30:00"),))
    assert run("PUB-01", articles(article("A1")), reviews(*signed)).height == 0


def test_important_flag_on_one_row_is_enough():
    chain = full_chain("A1")
    chain[0] = signoff("A1", "draft_submitted", "2026-09-20 09:00:00", "important", "E0012")
    assert evidence(run("PUB-01", articles(article("A1")), reviews(*chain)))["missing_stages"] == ["top_leader_approval"]


def test_no_review_record_at_all_misses_every_stage():
    out = run("PUB-01", articles(article("A9")), reviews())
    assert evidence(out)["missing_stages"] == ["dept_head_review", "division_lead_review", "platform_lead_approval"]
    assert out["employee_id"].to_list() == [None]


def test_other_days_and_multi_article_publications():
    arts = articles(article("A1", "2026-09-23 10:00:00"), article("A2", idx=1), article("A2", idx=2, title="第二篇"))
    out = run("PUB-01", arts, reviews())
    assert out["subject_id"].to_list() == ["A2"]  # one finding per publication, only the judged day


def test_registered():
    assert CLAUSES["PUB-01"].rule is pub_01_signoffs
