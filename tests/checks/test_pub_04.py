"""PUB-04 published on the day of the last approval: violating cases and near-misses."""

from .pub_frames import article, articles, evidence, full_chain, reviews, run, signoff


def test_same_day_approval_passes():
    assert run("PUB-04", articles(article("A1")), reviews(*full_chain("A1"))).height == 0


def test_approved_the_day_before_fires():
    out = run("PUB-04", articles(article("A1")), reviews(*full_chain("A1", approve="2026-09-23 18:00:00")))
    assert out["subject_id"].to_list() == ["A1"]
    ev = evidence(out)
    assert ev["approval_stage"] == "platform_lead_approval" and ev["days_publish_after_approval"] == 1


def test_top_leader_approval_is_the_last_one_when_present():
    # platform approval the day before, top leader on the publish day: passes
    top = signoff("A1", "top_leader_approval", "2026-09-24 08:00:00")
    revs = reviews(*full_chain("A1", approve="2026-09-23 18:00:00", flags="important", extra=(top,)))
    assert run("PUB-04", articles(article("A1")), revs).height == 0
    # platform approval on the publish day, top leader the day before: fires on the top leader's day
    early_top = signoff("A1", "top_leader_approval", "2026-09-23 08:00:00")
    out = run("PUB-04", articles(article("A1")), reviews(*full_chain("A1", flags="important", extra=(early_top,))))
    assert evidence(out)["approval_stage"] == "top_leader_approval"


def test_approval_after_the_publish_day_fires():
    out = run("PUB-04", articles(article("A1")), reviews(*full_chain("A1", approve="2026-09-25 09:00:00")))
    assert evidence(out)["days_publish_after_approval"] == -1


def test_no_approval_is_left_to_pub_01():
    chain = [r for r in full_chain("A1") if r["stage"] != "platform_lead_approval"]
    assert run("PUB-04", articles(article("A1")), reviews(*chain)).height == 0
    assert run("PUB-04", articles(article("A2")), reviews()).height == 0
