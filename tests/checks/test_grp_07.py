"""GRP-07 temporary groups dismissed by the end of work_item_end + 5 days; the finding lands on day 6."""

from .grp_frames import event, events, reg, registry, run, sighting, sightings, snap, snapshots, subjects, evidence

TEMP = "wrOgQhDgAAgrptemp00000000AAAA"
OTHER = "wrOgQhDgAAgrpother0000000AAAA"
GROUPS = registry(reg(TEMP, "中秋慰问临时群", "temporary", work_item_end="2026-09-28"),
                  reg(OTHER, "年度审计专项群", "special", work_item_end="2026-09-28"))
DUE = "2026-10-04"  # 09-28 + 6


def judge(day, snaps=(), evs=(), seen=()):
    return run("GRP-07", day, group_registry=GROUPS, snapshots=snapshots(*snaps), events=events(*evs),
               sightings=sightings(*seen))


def nightly(group, *days):
    return [snap(group, f"{d} 23:30:00", name="中秋慰问临时群") for d in days]


def test_not_dismissed_lands_on_day_six():
    snaps = nightly(TEMP, "2026-10-02", "2026-10-03", "2026-10-04") + nightly(OTHER, "2026-10-03", "2026-10-04")
    out = judge(DUE, snaps)
    assert subjects(out) == [TEMP]
    ev = evidence(out)
    assert ev["deadline"] == "2026-10-03 23:59:59" and ev["dismissed_at"] is None and not ev["carried_in"]
    assert judge("2026-10-03", snaps).height == 0 and judge("2026-10-05", snaps).height == 0


def test_dismissed_in_time_or_late():
    snaps = nightly(TEMP, "2026-10-02")
    assert judge(DUE, snaps, [event("2026-10-03 23:00:00", "dismiss", group=TEMP)]).height == 0
    late = judge(DUE, snaps, [event("2026-10-04 10:00:00", "dismiss", group=TEMP)])
    assert evidence(late)["dismissed_at"] == "2026-10-04 10:00:00"


def test_gone_from_the_snapshots_without_an_event():
    snaps = nightly(TEMP, "2026-10-02", "2026-10-03") + nightly(OTHER, "2026-10-04")
    assert judge(DUE, snaps).height == 0
    # no snapshot at all that day: no dismissal on record
    assert judge(DUE, nightly(TEMP, "2026-10-02", "2026-10-03")).height == 1


def test_never_seen_or_not_temporary():
    assert judge(DUE, nightly(OTHER, "2026-10-04")).height == 0


def test_deadline_before_monitoring_began():
    snaps = nightly(TEMP, "2026-10-20")
    out = judge("2026-10-20", snaps, seen=[sighting(TEMP, "2026-10-20 23:30:00", first_snapshot="2026-10-20 23:30:00")])
    assert subjects(out) == [TEMP] and evidence(out)["carried_in"]
