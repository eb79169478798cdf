"""PUB-03 expedited articles reported to the GM: violating cases and near-misses.

The deadline is the end of the publish day, so a finding lands on the day after it."""

from datetime import date

from .pub_frames import article, articles, evidence, full_chain, reviews, run, signoff

NEXT = date(2026, 9, 25)


def chain(gm_at=None):
    extra = (signoff("A1", "gm_report", gm_at, "expedited", "E0001"),) if gm_at else ()
    return reviews(*full_chain("A1", draft="2026-09-24 08:00:00", flags="expedited", extra=extra))


def test_gm_report_signed_the_same_day_passes_and_is_exempt_from_pub_02():
    revs = chain("2026-09-24 17:30:00")  # after the 10:00 publication, same day
    assert run("PUB-03", articles(article("A1")), revs, day=NEXT).height == 0
    assert run("PUB-02", articles(article("A1")), revs).height == 0


def test_missing_gm_report_lands_on_the_next_day():
    out = run("PUB-03", articles(article("A1")), chain(), day=NEXT)
    assert out["subject_id"].to_list() == ["A1"] and out["partition_date"].to_list() == [NEXT]
    assert evidence(out)["gm_report_at"] is None and evidence(out)["deadline"] == "2026-09-24"
    # judging the publish day itself says nothing yet: the deadline has not passed
    assert run("PUB-03", articles(article("A1")), chain()).height == 0


def test_gm_report_on_the_next_day_is_late():
    out = run("PUB-03", articles(article("A1")), chain("2026-09-25 00:00:01"), day=NEXT)
    assert out.height == 1 and "迟至 2026-09-25 00:00:01" in out["summary"][0]


def test_not_expedited_needs_no_report():
    assert run("PUB-03", articles(article("A1")), reviews(*full_chain("A1")), day=NEXT).height == 0


def test_report_before_publishing_passes():
    assert run("PUB-03", articles(article("A1")), chain("2026-09-23 18:00:00"), day=NEXT).height == 0
