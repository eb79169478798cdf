from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.formats.wecom_archive import SCHEMA, parse_wecom_archive

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-exports"
SH = ZoneInfo("Asia/Shanghai")


def real(name: str) -> Path:
    if not REAL.exists():
        pytest.skip(f"real export samples not present at {REAL}")
    return REAL / "wecom_msgaudit" / name


@pytest.fixture(scope="module")
def samples() -> pl.DataFrame:
    res = parse_wecom_archive(real("wxjava_msgaudit_decrypted_samples.jsonl"))
    assert res.rejects == []
    return res.frame


def as_json(names: list) -> str:
    """A staged `recipients` text: the canonical JSON of the (stripped) names."""
    return json.dumps(names, ensure_ascii=False, separators=(",", ":"))


def by_type(df: pl.DataFrame, msgtype: str) -> dict:
    return df.filter(pl.col("msgtype") == msgtype).row(0, named=True)


def test_every_real_sample_parses(samples):
    assert samples.height == 30
    assert samples.schema == SCHEMA and dict(SCHEMA) == SCHEMAS["wecom_messages"]
    assert set(samples["msgtype"]) == {
        "text", "image", "revoke", "agree", "disagree", "voice", "video", "card", "location", "emotion", "file",
        "link", "weapp", "chatrecord", "collect", "redpacket", "meeting", "switch", "docmsg", "markdown", "news",
        "calendar", "mixed", "meeting_voice_call", "voip_doc_share", "external_redpacket", "sphfeed",
    }
    assert samples["source_line"].to_list() == list(range(1, 31))


def test_real_recipients_are_their_tolist_as_one_json_text(samples):
    # one text a message that decodes back to the `tolist` as written (names stripped; none: [])
    lines = real("wxjava_msgaudit_decrypted_samples.jsonl").read_text("utf-8").splitlines()
    tolists = [[t.strip() for t in json.loads(line).get("tolist") or []] for line in lines if line.strip()]
    assert samples["recipients"].to_list() == [as_json(t) for t in tolists]
    assert samples["recipients"].str.json_decode(pl.List(pl.String)).to_list() == tolists


def test_staged_text_of_mixed_link_and_chatrecord(samples):
    assert by_type(samples, "mixed")["text"] == "你好[微笑]\n"  # the image item carries no text
    assert by_type(samples, "link")["text"] == "邀请你加入群聊\n技术支持群，进入可查看详情"
    assert by_type(samples, "link")["urls"] == [
        "https://work.weixin.qq.com/wework_admin/external_room/join/exceed?vcode=xxx"]
    assert by_type(samples, "chatrecord")["text"] == "群聊\ntest\ntest2"


def test_text_of_the_other_text_bearing_types(samples):
    assert by_type(samples, "markdown")["text"] == "请前往系统查看，谢谢。"
    assert by_type(samples, "news")["text"] == "service \ntest"
    assert by_type(samples, "docmsg")["text"] == "测试&演示客户"  # body under `doc`
    assert by_type(samples, "file")["text"] == "资料.docx"
    assert by_type(samples, "voip_doc_share")["text"] == "欢迎使用微盘.pdf.pdf"
    assert by_type(samples, "external_redpacket")["text"] == "恭喜发财，大吉大利"  # body under `redpacket`
    assert by_type(samples, "text")["text"].startswith("这是一条引用/回复消息")
    for silent in ("image", "voice", "video", "emotion", "agree", "switch", "revoke"):
        assert by_type(samples, silent)["text"] is None, silent


def test_envelope_values(samples):
    text = by_type(samples, "text")
    assert text["sent_at"] == datetime(2019, 1, 10, 10, 38, 14, 783000, tzinfo=SH)  # ms UTC -> Shanghai
    assert text["roomid"] is None and text["recipients"] == '["icefog"]' and text["sender"] == "XuJinSheng"
    switch = by_type(samples, "switch")
    assert (switch["action"], switch["sender"], switch["msgid"]) == ("switch", "XuJinSheng", "125289002219525886280")
    assert switch["sent_at"] == datetime(2019, 4, 1, 19, 50, 21, 840000, tzinfo=SH)
    revoke = by_type(samples, "revoke")
    assert (revoke["action"], revoke["revoked_msgid"]) == ("recall", "14822339130656386894_1603875600")
    assert by_type(samples, "mixed")["roomid"] == "wr_tZ2BwAAUwHpYMwy9cIWqnlU3Hzqfg"
    # ids beyond int64 (meeting id, file size) neither break nor round anything
    assert samples.filter(pl.col("msgid") == "5935786683775673543_1603877328").height == 2


def write(tmp_path: Path, lines: list[str], name: str = "a.jsonl", bom: bool = False) -> Path:
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\r\n".join(lines) + "\r\n").encode())
    return p


GOOD = {"msgid": "m1", "action": "send", "from": "zhangsan", "tolist": ["lisi"], "roomid": "",
        "msgtime": 1790000000123, "msgtype": "text", "text": {"content": "你好"}}


def test_bad_lines_are_rejected_with_their_line_and_the_rest_kept(tmp_path):
    lines = [
        json.dumps(GOOD, ensure_ascii=False),
        "",
        json.dumps({**GOOD, "msgid": "m2"})[:40],  # truncated
        json.dumps({k: v for k, v in GOOD.items() if k != "msgid"}),  # no msgid
        json.dumps({**GOOD, "msgid": "m4", "msgtime": "soon"}),
        json.dumps({**GOOD, "msgid": "m5", "text": "not an object"}),  # wrong shape
        "[1, 2]",
        json.dumps({**GOOD, "msgid": "m6", "text": {"content": "再见"}}),
    ]
    res = parse_wecom_archive(write(tmp_path, lines, bom=True))
    assert res.frame["msgid"].to_list() == ["m1", "m6"]
    assert res.frame["source_line"].to_list() == [1, 8]
    assert [(r.line, r.reason.split(":")[0]) for r in res.rejects] == [
        (3, "not a valid JSON record"), (4, "msgid missing"), (5, "msgtime"), (6, "not a valid JSON record"),
        (7, "not a valid JSON record"),
    ]
    assert all(r.file.endswith("a.jsonl") and r.raw for r in res.rejects)


def test_chunked_reading_keeps_line_numbers(tmp_path, monkeypatch):
    from wxpipeline.formats import jsontools

    lines = [json.dumps({**GOOD, "msgid": f"m{i}"}) for i in range(1, 301)]
    lines[150] = lines[150][:-5]
    path = write(tmp_path, lines)
    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 1000)  # many blocks, cut mid-line
    res = parse_wecom_archive(path)
    assert res.frame.height == 299 and res.frame["source_line"].to_list() == [i for i in range(1, 301) if i != 151]
    assert [r.line for r in res.rejects] == [151]
    assert res.frame.filter(pl.col("msgid") == "m300")["source_line"].item() == 300


def test_list_bodies_of_a_few_rows_among_many(tmp_path):
    bare = {k: v for k, v in GOOD.items() if k != "text"}
    mixed = {**bare, "msgid": "mx", "msgtype": "mixed", "mixed": {"item": [
        {"type": "text", "content": json.dumps({"content": "第一段"}, ensure_ascii=False)},
        {"type": "link", "content": json.dumps({"title": "标题", "description": "说明", "link_url": "http://a.cn/x"},
                                               ensure_ascii=False)},
        {"type": "file", "content": json.dumps({"filename": "报表.xlsx"}, ensure_ascii=False)}]}}
    news = {**bare, "msgid": "nw", "msgtype": "news", "info": {"item": [
        {"title": "一", "description": "甲", "url": "http://b.cn/1"}, {"title": "二", "url": "http://b.cn/2"}]}}
    link = {**bare, "msgid": "lk", "msgtype": "link", "link": {"title": "T", "link_url": "http://c.cn"}}
    lines = [json.dumps(x, ensure_ascii=False) for x in (GOOD, mixed, GOOD | {"msgid": "m9"}, news, link)]
    df = parse_wecom_archive(write(tmp_path, lines)).frame
    got = {r["msgid"]: (r["text"], r["urls"]) for r in df.iter_rows(named=True)}
    assert got["mx"] == ("第一段\n标题\n说明\n报表.xlsx", ["http://a.cn/x"])
    assert got["nw"] == ("一\n二\n甲", ["http://b.cn/1", "http://b.cn/2"])  # titles, then descriptions
    assert got["lk"] == ("T", ["http://c.cn"])
    assert got["m1"] == ("你好", []) and got["m9"] == ("你好", [])
    assert df["msgid"].to_list() == ["m1", "mx", "m9", "nw", "lk"]


def test_empty_file(tmp_path):
    res = parse_wecom_archive(write(tmp_path, [""]))
    assert res.frame.height == 0 and res.frame.schema == SCHEMA and res.rejects == []


def test_undecodable_bytes_reject_only_their_line(tmp_path):
    path = tmp_path / "bytes.jsonl"
    good = json.dumps(GOOD, ensure_ascii=False).encode()
    path.write_bytes(good + b"\n" + b'{"msgid": "\xff\xfe"}\n' + good.replace(b'"m1"', b'"m3"') + b"\n")
    res = parse_wecom_archive(path)
    assert res.frame["msgid"].to_list() == ["m1", "m3"] and res.frame["source_line"].to_list() == [1, 3]
    assert [(r.line, r.reason.startswith("not UTF-8")) for r in res.rejects] == [(2, True)]


def test_undecodable_bytes_in_a_body_the_reader_is_not_asked_for_reject_their_line(tmp_path):
    # the fast path takes a block's bytes as UTF-8 without checking them once the reader took the
    # block: the reader must refuse bytes that are not UTF-8 anywhere in a line
    path = tmp_path / "bytes.jsonl"
    good = json.dumps(GOOD, ensure_ascii=False).encode()
    image = good.replace(b'"m1"', b'"m2"').replace(b'"text": {', b'"image": {"md5sum": "\xff\xfe"}, "text": {')
    path.write_bytes(good + b"\n" + image + b"\n" + good.replace(b'"m1"', b'"m3"') + b"\n")
    res = parse_wecom_archive(path)
    assert res.meta["slow_blocks"] == 1
    assert res.frame["msgid"].to_list() == ["m1", "m3"]
    assert [(r.line, r.reason.startswith("not UTF-8")) for r in res.rejects] == [(2, True)]


def test_blank_lines_keep_line_numbers_on_the_fast_path(tmp_path):
    lines = [json.dumps({**GOOD, "msgid": f"m{i}"}) if i % 3 else "  " for i in range(1, 10)]
    res = parse_wecom_archive(write(tmp_path, lines))
    assert res.meta["slow_blocks"] == 0 and res.rejects == []
    assert res.frame["source_line"].to_list() == [1, 2, 4, 5, 7, 8]
    assert res.frame["msgid"].to_list() == ["m1", "m2", "m4", "m5", "m7", "m8"]


def test_a_body_of_the_wrong_shape_costs_its_line_only(tmp_path):
    link = {**{k: v for k, v in GOOD.items() if k != "text"}, "msgtype": "link"}
    lines = [json.dumps(GOOD), json.dumps({**link, "msgid": "bad", "link": {"title": ["not", "text"]}}),
             json.dumps({**link, "msgid": "ok", "link": {"title": "T", "link_url": "http://c.cn"}})]
    res = parse_wecom_archive(write(tmp_path, lines))
    assert res.frame["msgid"].to_list() == ["m1", "ok"] and res.frame["text"].to_list() == ["你好", "T"]
    assert [(r.line, r.reason.split(":")[0]) for r in res.rejects] == [(2, "not a valid JSON record")]


def test_msgtime_in_seconds_is_recognised_per_value_and_out_of_range_quarantined(tmp_path):
    lines = [
        json.dumps({**GOOD, "msgid": "ms", "msgtime": 1790000000123}),
        json.dumps({**GOOD, "msgid": "s", "msgtime": 1790000000}),  # an older SDK writes seconds
        json.dumps({**GOOD, "msgid": "neg", "msgtime": -5}),
        json.dumps({**GOOD, "msgid": "far", "msgtime": 99999999999999}),  # year 5138
    ]
    res = parse_wecom_archive(write(tmp_path, lines))
    got = dict(zip(res.frame["msgid"], res.frame["sent_at"]))
    assert got["s"] == datetime(2026, 9, 21, 22, 13, 20, tzinfo=SH)
    assert got["ms"] == datetime(2026, 9, 21, 22, 13, 20, 123000, tzinfo=SH)
    assert res.meta["msgtime_in_seconds"] == 1
    assert [(r.line, "out of range" in r.reason) for r in res.rejects] == [(3, True), (4, True)]


def test_gb18030_lines_are_decoded_and_nul_bytes_in_ids_quarantined(tmp_path):
    path = tmp_path / "mixed.jsonl"
    gbk = json.dumps({**GOOD, "msgid": "g", "text": {"content": "赌博网站"}}, ensure_ascii=False).encode("gb18030")
    nul = json.dumps({**GOOD, "msgid": "n\u0000ul"}).encode()
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + gbk + b"\n" + nul + b"\n")
    res = parse_wecom_archive(path)
    assert res.frame["msgid"].to_list() == ["m1", "g"] and res.frame["text"].to_list() == ["你好", "赌博网站"]
    assert res.meta["gb18030_lines"] == 1
    assert [(r.line, r.reason.startswith("NUL byte")) for r in res.rejects] == [(3, True)]


def test_times_as_integers_or_as_text_stage_the_same(tmp_path):
    # one block of integer times (read as Int64), one holding a float and a string time (read
    # again with times as text): the same instant either way
    path = tmp_path / "times.jsonl"
    first = [json.dumps({**GOOD, "msgid": "int", "msgtime": 1790000000123}),
             json.dumps({**GOOD, "msgid": "sec", "msgtime": 1790000000})]
    second = [json.dumps({**GOOD, "msgid": "str", "msgtime": "1790000000123"}),
              json.dumps({**GOOD, "msgid": "flt", "msgtime": 1.790000000123e12}),
              json.dumps({**GOOD, "msgid": "big", "msgtime": 123456789012345678901234})]
    path.write_text("\n".join(first) + "\n" + "\n".join(second) + "\n")
    from wxpipeline.formats import jsontools

    res = parse_wecom_archive(path)
    one_block = {r["msgid"]: r["sent_at"] for r in res.frame.iter_rows(named=True)}
    assert one_block["int"] == one_block["str"] == one_block["flt"] == datetime(2026, 9, 21, 22, 13, 20, 123000, tzinfo=SH)
    assert res.meta["msgtime_in_seconds"] == 1 and res.meta["slow_blocks"] == 0
    assert [(r.line, r.reason.split(":")[0]) for r in res.rejects] == [(5, "msgtime")]
    mp = pytest.MonkeyPatch()
    with mp.context() as m:  # the first block on its own: the integer reading
        m.setattr(jsontools, "CHUNK_BYTES", len("\n".join(first)) + 2)
        split = parse_wecom_archive(path)
    assert split.frame.equals(res.frame) and split.rejects == res.rejects


def test_blocks_parsed_in_parallel_come_out_in_file_order(tmp_path, monkeypatch):
    from wxpipeline.formats import jsontools, wecom_archive

    link = {**{k: v for k, v in GOOD.items() if k != "text"}, "msgtype": "link", "link": {"title": "T", "link_url": "u"}}
    lines = [json.dumps({**(link if i % 7 == 0 else GOOD), "msgid": f"m{i}"}, ensure_ascii=False) for i in range(400)]
    lines[57] = lines[57][:30]  # a slow block
    lines[123] = json.dumps({**GOOD, "msgid": "f", "msgtime": 1.79e12})  # times read as text
    lines[250] = ""
    lines[301] = json.dumps({**GOOD, "msgid": "s", "msgtime": 1790000000})
    path = tmp_path / "many.jsonl"
    gbk = json.dumps({**GOOD, "msgid": "g", "text": {"content": "赌博"}}, ensure_ascii=False).encode("gb18030")
    path.write_bytes("\n".join(lines[:200]).encode() + b"\n" + gbk + b"\n" + "\n".join(lines[200:]).encode() + b"\n")
    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 3000)  # ~40 blocks
    results = {}
    for threads in (1, 4):
        monkeypatch.setattr(wecom_archive, "parse_threads", lambda t=threads: t)
        results[threads] = parse_wecom_archive(path)
    one, many = results[1], results[4]
    assert many.frame.equals(one.frame) and many.rejects == one.rejects and many.meta == one.meta
    assert many.frame["source_line"].is_sorted() and many.frame.height == 399
    assert many.meta["gb18030_lines"] == 1 and many.meta["msgtime_in_seconds"] == 1 and many.meta["slow_blocks"] == 2
    assert [r.line for r in many.rejects] == [58]
    assert many.frame.filter(pl.col("msgid") == "m7")["text"].item() == "T"


def test_ids_are_trimmed_in_a_block_that_needs_it_and_read_as_is_in_one_that_does_not(tmp_path):
    # the same messages, once clean and once with padded / empty values: nonempty is skipped on a
    # clean block's columns, applied on the other's; both stage the same rows
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block, needs_nonempty, untrimmed

    clean = [{**GOOD, "msgid": f"m{i}", "roomid": "r1" if i % 2 else ""} for i in range(6)]
    padded = [{**m, "msgid": f" {m['msgid']}\u3000", "from": "zhangsan ", "action": "\tsend", "msgtype": "text "}
              for m in clean]
    a, b = (parse_wecom_archive(write(tmp_path, [json.dumps(m, ensure_ascii=False) for m in ms], name))
            for ms, name in ((clean, "clean.jsonl"), (padded, "padded.jsonl")))
    assert a.meta["slow_blocks"] == b.meta["slow_blocks"] == 0 and a.rejects == b.rejects == []
    assert a.frame.drop("source_file").equals(b.frame.drop("source_file"))
    assert a.frame["msgid"].to_list() == [f"m{i}" for i in range(6)] and a.frame["roomid"].null_count() == 3
    frame = pl.DataFrame({"x": ["a", "b"], "y": ["a", ""], "z": [" a", None], "n": [None, None]}, schema_overrides={"n": pl.String})
    assert needs_nonempty(frame, ("x", "y", "z", "n", "absent")) == {"y", "z"}
    assert untrimmed(frame, ("x", "y", "z", "n", "absent")) == ({"y"}, {"z"})  # empty only, padded
    # values known clean are looked up; a column holding another value is checked
    assert untrimmed(frame, ("x", "y", "z", "n"), {"x": ("a", "b"), "y": ("a",), "z": ("a",), "n": ()}) == (
        {"y"}, {"z"})
    assert untrimmed(frame, ("x", "y"), {"x": ("a",), "y": ("a", "b")}) == ({"y"}, set())
    # a column with empty values only (roomid) is not stripped: as the line-isolating path stages it
    data = "\n".join(json.dumps({**m, "from": f"u{i}", "roomid": m["roomid"] or ("" if i % 4 else " r2 ")},
                                ensure_ascii=False) for i, m in enumerate(clean)).encode()
    for block in (data, data.replace(b'" r2 "', b'""')):
        fast, slow = wa._fast_block(Block(block, 1), "f.jsonl"), wa._slow_block(block, 1, "f.jsonl", [])
        assert fast[1] == slow[1] == [] and fast[0].equals(slow[0])
    assert fast[0]["roomid"].to_list() == [None, "r1", None, "r1", None, "r1"]


def test_good_rows_stage_the_same_in_a_block_with_or_without_a_rejected_row(tmp_path):
    good = [json.dumps({**GOOD, "msgid": f"m{i}"}) for i in range(5)]
    bad = json.dumps({**GOOD, "msgid": "late", "msgtime": 99999999999999})
    a = parse_wecom_archive(write(tmp_path, good, "good.jsonl"))
    b = parse_wecom_archive(write(tmp_path, good[:2] + [bad] + good[2:], "mixed.jsonl"))
    assert b.meta["slow_blocks"] == 0 and [(r.line, "out of range" in r.reason) for r in b.rejects] == [(3, True)]
    assert b.rejects[0].raw == bad  # quarantined with its line, as the line-isolating path does
    assert a.rejects == [] and a.frame.drop("source_file", "source_line").equals(b.frame.drop("source_file", "source_line"))


def test_revokes_and_nul_ids_on_the_fast_path(tmp_path):
    # revoke bodies are decoded with the other rich rows, NUL escapes found by the same search of the lines
    bare = {k: v for k, v in GOOD.items() if k != "text"}
    lines = [
        json.dumps({**bare, "msgid": "r1", "action": "recall", "msgtype": "revoke", "revoke": {"pre_msgid": " p1 "}}),
        json.dumps({**bare, "msgid": "r2", "action": "recall", "msgtype": "revoke", "revoke": {"pre_msgid": ""}}),
        json.dumps(GOOD),
        json.dumps({**GOOD, "msgid": "n\u0000"}),
        json.dumps({**GOOD, "msgid": "t", "tolist": ["li\u0000si"]}),
        json.dumps({**GOOD, "msgid": "m2", "tolist": [" lisi ", "wangwu"]}),
    ]
    res = parse_wecom_archive(write(tmp_path, lines))
    assert res.meta["slow_blocks"] == 0
    got = {r["msgid"]: r for r in res.frame.iter_rows(named=True)}
    assert list(got) == ["r1", "r2", "m1", "m2"]
    assert (got["r1"]["revoked_msgid"], got["r1"]["text"], got["r1"]["urls"]) == ("p1", None, [])
    assert got["r2"]["revoked_msgid"] is None and got["m1"]["revoked_msgid"] is None
    assert got["m2"]["recipients"] == '["lisi","wangwu"]'
    assert [(r.line, r.reason.startswith("NUL byte")) for r in res.rejects] == [(4, True), (5, True)]
    # one revoke among rows without other bodies: no text field to join
    only = parse_wecom_archive(write(tmp_path, lines[:1] + lines[2:3], "one.jsonl"))
    assert only.frame["revoked_msgid"].to_list() == ["p1", None] and only.frame["text"].to_list() == [None, "你好"]


def test_a_nul_escape_outside_the_ids_keeps_its_row_and_text(tmp_path):
    # the scan for rich bodies also finds the NUL escape: such a row is decoded in full, and must
    # stage as a plain text row does (its text as written, no URLs, no revoked id)
    lines = [json.dumps({**GOOD, "msgid": "z", "text": {"content": "a\u0000b"}}), json.dumps(GOOD)]
    res = parse_wecom_archive(write(tmp_path, lines))
    assert res.rejects == [] and res.meta["slow_blocks"] == 0
    assert res.frame.select("msgid", "text", "urls", "revoked_msgid").rows() == [
        ("z", "a\x00b", [], None), ("m1", "你好", [], None)]


def test_a_row_with_mixed_and_chatrecord_items_keeps_their_order():
    # mixed and chatrecord items are exploded and parsed together: a row's mixed items come first,
    # each item's paths in order; a row of only one of them, or a null item list, adds nothing else
    from wxpipeline.formats.wecom_bodies import BODIES, rich_content

    def item(body: dict) -> dict:
        return {"type": "t", "content": json.dumps(body, ensure_ascii=False)}

    rows = [
        {"mixed": {"item": [item({"content": "m1", "link_url": "u1"}), item({"title": "m2"})]},
         "chatrecord": {"title": "R", "item": [item({"content": "c1", "url": "u2"})]}},
        {"chatrecord": {"title": "S", "item": None}, "mixed": {"item": [item({"filename": "f"})]}},
        {"chatrecord": {"item": [item({"description": "d", "content": "c"})]}},
    ]
    decoded = pl.Series("_j", [json.dumps(r) for r in rows]).str.json_decode(pl.Struct(BODIES)).to_frame()
    out = rich_content(decoded)
    assert out["text"].to_list() == ["R\nm1\nm2\nc1", "S\nf", "c\nd"]
    assert out["urls"].to_list() == [["u1", "u2"], [], []]
