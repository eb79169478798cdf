"""Snapshot files parsed together (`parse_many`, announced by the exports read) give each file
exactly what it gives parsed alone: frames, rejects (file, line, reason, raw) and meta."""

from __future__ import annotations

import json
import os

from polars.testing import assert_frame_equal

from wxpipeline.formats import wecom_groups as wg
from wxpipeline.formats.common import ExportFormatError

from .test_wecom_groups import REAL, chat


def _files(tmp_path):
    def put(name, data: bytes, mtime=None):
        p = tmp_path / name
        p.write_bytes(data)
        if mtime:
            os.utime(p, (mtime, mtime))
        return p

    def snap(name, chats, t=1790000000, indent=None):
        doc = {"snapshot_time": t, "group_chat_list": chats}
        return put(name, json.dumps(doc, ensure_ascii=False, indent=indent).encode())

    bad_member = chat("wrA", "a", "b")
    bad_member["member_list"][1]["userid"] = ""
    bad_member["member_list"][0]["join_time"] = "yesterday"
    odd = chat("wrB", "b")
    odd["member_list"] = "b"
    damaged = json.dumps({"snapshot_time": 1790000100, "group_chat_list": [chat("wr1", "u1"), chat("wr2", "u2")]},
                         ensure_ascii=False, indent=1).encode().replace('"群wr1"'.encode(), b'"\xff1"')
    files = [
        snap("shapes.json", [chat("wrA", "a", "b"), {"errcode": 0, "errmsg": "ok", "group_chat": chat("wrB", "c")},
                             {"roomid": "wrC", "roomname": "内部群", "creator": "d", "room_create_time": 1600000000,
                              "members": [{"memberid": "d", "jointime": 1600000001}]}, chat("wrE")], indent=2),
        snap("bad.json", [bad_member, {"errcode": 40001, "errmsg": "invalid secret"}, chat("", "x"), chat("wrD", "d")]),
        snap("odd.json", [chat("wrA", "a"), odd], t=1790000000123),
        snap("twice.json", [chat("wrA", "a", "b"), chat("wrA", "c")]),  # one id twice: members numbered per group
        snap("none.json", []),
        put("damaged.json", damaged),
        put("bare.json", json.dumps({"errcode": 0, "errmsg": "ok", "group_chat": chat("wrZ", "z")}).encode(),
            mtime=1790000500),
        put("broken.json", b'{"snapshot_time": 1790000000,\n "group_chat_list": [\n {"chat_id": "wrA",'),
        put("empty.json", b""),
        snap("late.json", [chat("wrL", "l")], t=99),  # implausible snapshot time: the file is refused
    ]
    if REAL.exists():
        for folder, name in [("wecom_groupchat", "doc_externalcontact_groupchat_get_response.json"),
                             ("wecom_msgaudit", "doc_msgaudit_groupchat_get_response.json")]:
            files.append(put(name, (REAL / folder / name).read_bytes(), mtime=1790000000))
    return files


def _alone(path):
    st = os.stat(path)
    try:
        return wg._parse.__wrapped__(str(path), st.st_mtime_ns, st.st_size)
    except ExportFormatError as e:
        return str(e)


def _after_many(path):
    try:
        groups, members = wg.parse_wecom_groups(path), wg.parse_wecom_group_members(path)
    except ExportFormatError as e:
        return str(e)
    assert groups.rejects == members.rejects and groups.meta == members.meta
    return groups.frame, members.frame, tuple(groups.rejects), groups.meta


def test_files_parsed_together_give_what_each_gives_alone(tmp_path, monkeypatch):
    files = _files(tmp_path)
    alone = [_alone(p) for p in files]
    assert sum(isinstance(a, str) for a in alone) == 3  # broken, empty, late: refused by name
    reasons = {r.reason for a in alone if not isinstance(a, str) for r in a[2]}
    assert {"group wr1: holds bytes not decodable as utf-8", "group_chat_list[2]: chat_id missing",
            "group wrA member_list[1]: userid missing"} <= reasons
    monkeypatch.setattr(wg, "_EXPECTED", {})
    monkeypatch.setattr(wg, "_PARSED", {})
    monkeypatch.setattr(wg, "_TAKEN", {})
    wg._parse.cache_clear()
    calls = []
    tables = wg._tables
    monkeypatch.setattr(wg, "_tables", lambda snaps: calls.append(len(snaps)) or tables(snaps))
    wg.expect(files)
    for path, expected in zip(files, alone):
        got = _after_many(path)
        if isinstance(expected, str):
            assert got == expected
            continue
        assert_frame_equal(got[0], expected[0])
        assert_frame_equal(got[1], expected[1])
        assert got[2:] == expected[2:]
    assert calls[0] == len(files) - 3  # the readable files in one pass; the others alone, raising
    assert wg._PARSED == {} and wg._EXPECTED == {}


def test_a_file_changed_after_the_batch_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(wg, "_EXPECTED", {})
    monkeypatch.setattr(wg, "_PARSED", {})
    monkeypatch.setattr(wg, "_TAKEN", {})
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    for p, cid in ((a, "wrA"), (b, "wrB")):
        p.write_text(json.dumps({"snapshot_time": 1790000000, "group_chat_list": [chat(cid, "u")]}), "utf-8")
    wg.expect([a, b])
    assert wg.parse_wecom_groups(a).frame["group_id"].to_list() == ["wrA"]
    b.write_text(json.dumps({"snapshot_time": 1790000000, "group_chat_list": [chat("wrX", "u", "v")]}), "utf-8")
    os.utime(b, (1790000999, 1790000999))
    assert wg.parse_wecom_groups(b).frame["group_id"].to_list() == ["wrX"]


def test_the_exports_read_parses_only_snapshots_missing_from_the_cache(tmp_path, monkeypatch):
    """A new snapshot arriving beside parsed ones is parsed alone: the cached ones are not
    announced, so no batch parses them again."""
    from wxpipeline.arrival import inventory
    from wxpipeline.resources.exports import ExportsFolder

    monkeypatch.setattr(wg, "_EXPECTED", {})
    monkeypatch.setattr(wg, "_PARSED", {})
    monkeypatch.setattr(wg, "_TAKEN", {})
    wg._parse.cache_clear()
    snapshots = tmp_path / "exports" / "wecom_groups"
    snapshots.mkdir(parents=True)

    def snap(name, cid):
        doc = {"snapshot_time": 1790000000, "group_chat_list": [chat(cid, "u")]}
        (snapshots / name).write_text(json.dumps(doc), "utf-8")

    calls = []
    tables = wg._tables
    monkeypatch.setattr(wg, "_tables", lambda snaps: calls.append(sorted(s.path.name for s in snaps)) or tables(snaps))
    folder = ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))
    snap("a.json", "wrA")
    snap("b.json", "wrB")
    inventory(folder)
    assert calls == [["a.json", "b.json"]]  # both new: one pass
    snap("c.json", "wrC")
    inventory(folder)
    assert calls[1:] == [["c.json"]]  # a and b come from the cache
    assert wg._EXPECTED == {}
