"""The membership timeline from snapshots and events: lost, wrong and out-of-order events."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from wxpipeline.derive.membership import SCHEMA, membership_timeline
from wxpipeline.formats.schemas import export_schema

SH = ZoneInfo("Asia/Shanghai")
D = date(2026, 10, 12)
G = "wrG1"


def t(day: int, hh: int = 0, mm: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


def frame(kind: str, rows: list[dict]) -> pl.DataFrame:
    schema = export_schema(kind)
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


class World:
    """Snapshots (time -> {userid: (join_time, nickname)}) and events, as staged frames."""

    def __init__(self):
        self.groups, self.members, self.events = [], [], []

    def snap(self, at: datetime, people: dict[str, tuple[datetime, str]], group: str = G, name: str = "项目群",
             owner: str = "boss"):
        self.groups.append({"snapshot_time": at, "group_id": group, "group_name": name, "owner": owner,
                            "member_count": len(people), "source_format": "externalcontact"})
        for uid, (joined, nick) in people.items():
            self.members.append({"snapshot_time": at, "group_id": group, "userid": uid, "member_type": 1,
                                 "join_time": joined, "join_scene": 1, "join_method": "invite",
                                 "group_nickname": nick, "source_format": "externalcontact"})
        return self

    def event(self, at: datetime, detail: str, *userids: str, group: str = G, quit_method: str | None = None):
        change = "dismiss" if detail == "dismiss" else "update"
        self.events.append({"event_time": at, "group_id": group, "change_type": change,
                            "update_detail": "" if change == "dismiss" else detail, "members": list(userids),
                            "join_method": "invite" if detail == "add_member" else None, "quit_method": quit_method})
        return self

    def timeline(self, day: date = D) -> pl.DataFrame:
        return membership_timeline(frame("wecom_group_members", self.members), frame("wecom_groups", self.groups),
                                   frame("wecom_group_events", self.events), day)


def rows(tl: pl.DataFrame, *cols: str) -> list[tuple]:
    return tl.select(cols).rows()


OLD = t(1, 9, month=3)  # joined long ago


def test_present_throughout_with_nickname_as_of_the_day():
    w = (World().snap(t(11, 23), {"a": (OLD, "张三-销售部")}).snap(t(12, 23), {"a": (OLD, "张三-销售")})
         .snap(t(13, 23), {"a": (OLD, "张三")}))
    tl = w.timeline()
    assert tl.schema == SCHEMA
    assert rows(tl, "userid", "joined_at", "join_source", "left_at", "group_nickname", "nickname_seen_at") == [
        ("a", OLD, "snapshot", None, "张三-销售", t(12, 23))]
    assert rows(tl, "first_seen_at", "last_seen_at", "group_name", "owner", "day") == [
        (t(11, 23), t(13, 23), "项目群", "boss", D)]


def test_del_event_ends_the_stay_at_its_second():
    w = (World().snap(t(11, 23), {"a": (OLD, "A"), "b": (OLD, "B")}).event(t(12, 10), "del_member", "a", quit_method="removed")
         .snap(t(12, 23), {"b": (OLD, "B")}))
    tl = w.timeline()
    assert rows(tl, "userid", "left_at", "left_source", "quit_method", "last_seen_at") == [
        ("a", t(12, 10), "event", "removed", t(11, 23)), ("b", None, None, None, t(12, 23))]


def test_lost_del_event_leaves_at_the_first_snapshot_without_the_member():
    w = World().snap(t(11, 23), {"a": (OLD, "A"), "b": (OLD, "B")}).snap(t(12, 23), {"b": (OLD, "B")})
    assert rows(w.timeline(), "userid", "left_at", "left_source", "last_seen_at") == [
        ("a", t(12, 23), "snapshot", t(11, 23)), ("b", None, None, t(12, 23))]


def test_lost_add_event_the_snapshot_dates_the_join():
    w = World().snap(t(11, 23), {"b": (OLD, "B")}).snap(t(13, 1), {"a": (t(12, 15), "A"), "b": (OLD, "B")})
    tl = w.timeline()
    assert rows(tl, "userid", "joined_at", "join_source", "group_nickname", "nickname_seen_at") == [
        ("a", t(12, 15), "snapshot", "A", t(13, 1)), ("b", OLD, "snapshot", "B", t(11, 23))]


def test_join_and_leave_between_snapshots_known_from_events_only_and_out_of_order():
    w = World().snap(t(11, 23), {}).snap(t(12, 23), {})
    w.event(t(12, 11), "del_member", "x", quit_method="self").event(t(12, 9), "add_member", "x")  # out of order
    assert rows(w.timeline(), "userid", "joined_at", "join_source", "left_at", "left_source", "first_seen_at") == [
        ("x", t(12, 9), "event", t(12, 11), "event", None)]


def test_add_event_and_snapshot_of_the_same_join_are_one_stay():
    w = World().snap(t(11, 23), {}).event(t(12, 9), "add_member", "a").snap(t(12, 23), {"a": (t(12, 9), "A")})
    assert rows(w.timeline(), "userid", "joined_at", "join_source", "join_method") == [
        ("a", t(12, 9), "snapshot", "invite")]


def test_del_event_contradicted_by_the_next_snapshot_is_ignored():
    w = (World().snap(t(11, 23), {"a": (OLD, "A")}).event(t(12, 10), "del_member", "a")
         .snap(t(12, 23), {"a": (OLD, "A")}))
    assert rows(w.timeline(), "userid", "joined_at", "left_at") == [("a", OLD, None)]


def test_rejoin_between_snapshots_without_events_is_two_stays():
    w = World().snap(t(11, 23), {"a": (OLD, "A")}).snap(t(12, 23), {"a": (t(12, 14), "A2")})
    assert rows(w.timeline(), "joined_at", "left_at", "left_source", "group_nickname") == [
        (OLD, t(12, 14), "snapshot", "A"), (t(12, 14), None, None, "A2")]


def test_dismiss_ends_every_stay():
    w = World().snap(t(11, 23), {"a": (OLD, "A"), "b": (OLD, "B")}).event(t(12, 18), "dismiss")
    assert rows(w.timeline(), "userid", "left_at", "left_source") == [
        ("a", t(12, 18), "dismiss"), ("b", t(12, 18), "dismiss")]
    assert w.timeline(date(2026, 10, 13)).height == 0


def test_stays_that_do_not_overlap_the_day_are_left_out_and_old_evidence_is_not_read():
    w = (World().snap(t(1, 23), {"gone": (OLD, "G")})  # 11 days before: outside t0, unused
         .snap(t(10, 23), {"a": (OLD, "A"), "early": (OLD, "E")}).snap(t(11, 23), {"a": (OLD, "A")}))
    assert rows(w.timeline(), "userid", "last_seen_at") == [("a", t(11, 23))]


def test_rejoin_after_a_del_event_and_an_external_member_type():
    w = World().snap(t(11, 23), {"a": (OLD, "A")})
    w.event(t(12, 9), "del_member", "a").event(t(12, 10), "add_member", "a").snap(t(12, 23), {"a": (t(12, 10), "A")})
    assert rows(w.timeline(), "joined_at", "left_at", "left_source") == [
        (OLD, t(12, 9), "event"), (t(12, 10), None, None)]


def test_no_evidence_gives_an_empty_frame_with_the_schema():
    tl = World().timeline()
    assert tl.height == 0 and tl.schema == SCHEMA
