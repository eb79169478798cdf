"""The WeCom part of the demo: vendor formats that parse cleanly, a membership timeline that the
derivation recovers from snapshots and events, and ordinary data that breaks no group clause."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from wxpipeline.demo import is_workday, wecom, write_demo
from wxpipeline.demo.wecom_text import corpus
from wxpipeline.derive.membership import membership_timeline
from wxpipeline.formats.wecom_archive import parse_wecom_archive
from wxpipeline.formats.wecom_events import parse_wecom_group_events
from wxpipeline.formats.wecom_groups import parse_wecom_group_members, parse_wecom_groups

SH = ZoneInfo("Asia/Shanghai")
WORDLISTS = Path(wecom.__file__).resolve().parents[1] / "policy" / "wordlists"


def _write(root: Path, **kwargs):
    """The demo plus its WeCom model (captured by a planter that changes nothing)."""
    captured = {}
    mp = pytest.MonkeyPatch()
    mp.setattr(wecom, "PLANTERS", [lambda ctx, model: captured.update(model=model)])
    try:
        summary = write_demo(root, **kwargs)
    finally:
        mp.undo()
    return root, summary, captured["model"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("exports"))


def _concat(results) -> tuple[pl.DataFrame, list]:
    results = list(results)
    return pl.concat([r.frame for r in results]), [x for r in results for x in r.rejects]


def _staged(demo) -> dict[str, pl.DataFrame]:
    root = demo[0]
    messages, rej_m = _concat(parse_wecom_archive(p) for p in sorted((root / "wecom_archive").glob("*.jsonl")))
    snaps = sorted((root / "wecom_groups").glob("*.json"))
    members, rej_g = _concat(parse_wecom_group_members(p) for p in snaps)
    groups, _ = _concat(parse_wecom_groups(p) for p in snaps)
    events, rej_e = _concat(parse_wecom_group_events(p) for p in sorted((root / "wecom_group_events").iterdir()))
    assert rej_m == [] and rej_g == [] and rej_e == []
    return {
        "raw_messages": messages, "messages": messages.unique("msgid", keep="first"),
        "members": members, "groups": groups,
        "events": events.unique(["group_id", "event_time", "change_type", "update_detail"], keep="first"),
        "raw_events": events,
    }


@pytest.fixture(scope="module")
def staged(demo):
    return _staged(demo)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_files_and_row_counts(demo):
    root, summary, _ = demo
    files = [f for f in summary["files"] if f.startswith("wecom_")]
    assert {f.split("/")[0] for f in files} == {"wecom_archive", "wecom_groups", "wecom_group_events"}
    for rel in files:
        raw = (root / rel).read_text("utf-8")
        if rel.endswith(".jsonl"):
            n = len(raw.splitlines())
        elif rel.endswith(".xml"):
            n = raw.count("<xml>")
        else:
            doc = json.loads(raw)
            n = sum(len(c.get("member_list", c.get("members", []))) for c in doc["group_chat_list"])
        assert summary["rows"][rel] == n, rel
    assert any(f.endswith("_retry.jsonl") for f in files) and any(f.endswith(".xml") for f in files)
    assert any(f.startswith("wecom_groups/internal_") for f in files)


def test_archive_volume_mix_and_vendor_quirks(staged):
    m, raw = staged["messages"], staged["raw_messages"]
    assert raw.height > m.height  # the re-pulled batch repeats messages
    per_day = m.group_by(pl.col("sent_at").dt.date().alias("d")).len()
    for d, n in per_day.iter_rows():
        assert (n >= 2000) if is_workday(d) else (n < 400), (d, n)
    types = set(m["msgtype"])
    assert {"text", "image", "mixed", "chatrecord", "link", "file", "revoke", "docmsg", "markdown", "news",
            "meeting", "switch", "emotion", "voice"} <= types
    assert m.filter(pl.col("msgtype") == "text")["text"].null_count() == 0
    assert m.filter(pl.col("msgtype") == "mixed")["text"].null_count() == 0
    assert m.filter(pl.col("action") == "recall")["revoked_msgid"].is_in(m["msgid"].implode()).all()
    assert m["roomid"].null_count() > 0 and m["roomid"].drop_nulls().n_unique() >= 8


def test_ordinary_text_is_benign(staged):
    terms = [ln.strip().lower() for p in WORDLISTS.glob("*.txt") if p.name != "allow.txt"
             for ln in p.read_text("utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    for text in corpus():
        assert not [t for t in terms if t in text.lower().replace(" ", "")], text
    texts = staged["messages"]["text"].drop_nulls()
    assert not texts.str.contains("@").any()
    assert not texts.str.contains(r"1[3-9]\d{9}").any()


def _truth(model, day: date) -> set[tuple[str, str, datetime]]:
    lo = datetime(day.year, day.month, day.day, tzinfo=SH)
    hi = lo + timedelta(days=1)
    return {(s.group_id, s.userid, s.joined) for s in model.stays if s.joined < hi and (s.left is None or s.left >= lo)}


def test_timeline_recovers_the_model_every_day(demo, staged):
    _, summary, model = demo
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    d = start
    while d <= end:
        tl = membership_timeline(staged["members"], staged["groups"], staged["events"], d)
        assert set(tl.select("group_id", "userid", "joined_at").iter_rows()) == _truth(model, d), d
        for r in tl.iter_rows(named=True):
            stay = next(s for s in model.stays if (s.group_id, s.userid, s.joined) == (r["group_id"], r["userid"], r["joined_at"]))
            if r["left_source"] in ("event", "dismiss"):
                assert r["left_at"] == stay.left
            elif r["left_source"] == "snapshot":  # internal group (no callbacks): first snapshot without them
                assert stay.left is not None and r["last_seen_at"] < stay.left <= r["left_at"]
        d += timedelta(days=1)


def _active(row: dict[str, str], d: date) -> bool:
    return row["hire_date"] <= d.isoformat() and (not row["leave_date"] or d.isoformat() <= row["leave_date"])


def test_ordinary_group_data_breaks_no_group_clause(demo, staged):
    root, summary, model = demo
    roster = {r["wecom_userid"]: r for r in _read_csv(root / "reference/roster.csv")}
    registry = {g["group_id"]: g for g in _read_csv(root / "reference/group_registry.csv")}
    members = staged["members"].with_columns(pl.col("snapshot_time").dt.date().alias("d"))
    for r in members.iter_rows(named=True):
        emp, reg = roster.get(r["userid"]), registry[r["group_id"]]  # GRP-05: every group registered
        assert reg["registered_on"] <= r["d"].isoformat()
        if emp is None:  # GRP-04: externals only where allowed
            assert r["member_type"] == 2 and reg["allows_external"] == "true"
            continue
        assert _active(emp, r["d"]) or (r["d"] - date.fromisoformat(emp["leave_date"])).days <= 1  # GRP-02
        if r["source_format"] == "externalcontact":  # GRP-01 (msgaudit snapshots carry no nicknames)
            nick = re.sub(r"[－—]", "-", r["group_nickname"].strip())
            by_dept, by_pos = f"{emp['name']}-{emp['department']}", f"{emp['name']}-{emp['position']}"
            allowed = {"company": {by_dept}, "temporary": {by_dept, by_pos}}.get(reg["group_type"], {by_pos})
            assert nick in allowed, r
        if r["join_time"].date() >= date.fromisoformat(summary["start"]):  # GRP-03
            assert r["join_time"] >= wecom.earliest_join(date.fromisoformat(emp["hire_date"]))
    for g in staged["groups"].iter_rows(named=True):  # GRP-06
        assert _active(roster[g["owner"]], g["snapshot_time"].date()), g
    dismissed = staged["events"].filter(pl.col("change_type") == "dismiss")
    temporary = [g for g in registry.values() if g["group_type"] == "temporary"]
    assert {r["group_id"] for r in dismissed.iter_rows(named=True)} == {g["group_id"] for g in temporary}
    msgs = staged["messages"]
    for ev in dismissed.iter_rows(named=True):  # GRP-07 and GRP-08
        reg = registry[ev["group_id"]]
        assert ev["event_time"].date() <= date.fromisoformat(reg["work_item_end"]) + timedelta(days=5)
        notice = msgs.filter((pl.col("roomid") == ev["group_id"]) & pl.col("text").str.contains("解散")
                             & (pl.col("sent_at") < ev["event_time"])
                             & (pl.col("sent_at") >= ev["event_time"] - timedelta(days=7)))
        assert notice.height == 1 and "操作人" in notice["text"].item()
        assert re.search(r"\d+月\d+日", notice["text"].item())


def test_only_active_employees_and_members_post(demo, staged):
    root, _, model = demo
    roster = {r["wecom_userid"]: r for r in _read_csv(root / "reference/roster.csv")}
    for r in staged["messages"].iter_rows(named=True):
        emp = roster.get(r["sender"])
        if emp is None:
            assert r["sender"] in model.externals
        else:
            assert _active(emp, r["sent_at"].date()), r  # ACC-01
        if r["roomid"]:
            assert model.stay(r["roomid"], r["sender"], r["sent_at"]) is not None, r


def test_events_are_resent_out_of_order_and_one_was_lost(demo, staged):
    root, _, model = demo
    assert staged["raw_events"].height > staged["events"].height
    lines = [json.loads(x) for p in sorted((root / "wecom_group_events").glob("*.jsonl"))
             for x in p.read_text("utf-8").splitlines()]
    times = [x["CreateTime"] for x in lines]
    assert times != sorted(times)
    lost = [s for s in model.stays if not s.add_event and s.joined.date() >= date.fromisoformat("2026-09-18")
            and not model.groups[s.group_id].internal and s.joined != model.groups[s.group_id].created]
    assert len(lost) == 1


def test_another_period_is_consistent_too(tmp_path):
    """45 days past the default end: new hires join late, the temporary groups are long gone."""
    demo = _write(tmp_path, end=date(2026, 10, 31), days=45)
    staged = _staged(demo)
    test_timeline_recovers_the_model_every_day(demo, staged)
    test_ordinary_group_data_breaks_no_group_clause(demo, staged)
