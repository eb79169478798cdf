"""The archive parse's fast path (NDJSON reader, rich rows decoded from their lines, `tolist`
cut out and read as text) against the line-isolating path and the list reader, on blocks and
files built to sit on each path's edges (`test_wecom_archive.py`: the parse's behaviour)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from wxpipeline.formats.wecom_archive import parse_wecom_archive
from wxpipeline.formats.wecom_recipients import split_tolists

from .test_wecom_archive import GOOD, as_json, write


def test_rows_found_rich_by_type_or_by_their_line_stage_as_the_line_isolating_path():
    # rich rows are found by their msgtype (no look at the line) or by a body key in the line:
    # a type without its body, a body under another type, a body key in a text, a NUL escape in a
    # text all stage as the slow path (every line decoded in full) stages them
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block

    bare = {k: v for k, v in GOOD.items() if k != "text"}
    link = {"title": "T", "description": "D", "link_url": "http://e.cn"}
    records = [
        {**GOOD, "msgid": "a", "msgtype": "link"},  # typed, no link body: its text body only
        {**GOOD, "msgid": "b", "link": link},  # a link body under msgtype text
        {**bare, "msgid": "c", "msgtype": "docmsg", "doc": {"title": "文档", "link_url": "http://d.cn"}},
        {**bare, "msgid": "d", "msgtype": "news", "info": {"item": [{"title": "N", "description": "", "url": "u"}]}},
        {**bare, "msgid": "e", "msgtype": "markdown", "info": {"content": "**M**"}},
        {**bare, "msgid": "f", "msgtype": "mixed", "mixed": {"item": [{"type": "text", "content": '{"content": "x"}'}]}},
        {**GOOD, "msgid": "g", "text": {"content": 'say "link" and \u0000'}},
        {**bare, "msgid": "h", "action": "recall", "msgtype": "revoke", "revoke": {"pre_msgid": "a"}},
        {**bare, "msgid": "i", "msgtype": "image", "image": {"md5sum": "x"}},
        {**GOOD, "msgid": "j"},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    fast, fast_rejects = wa._fast_block(Block(data, 1), "f.jsonl")
    slow, slow_rejects = wa._slow_block(data, 1, "f.jsonl", [])
    assert fast_rejects == slow_rejects == [] and fast.equals(slow)
    got = {r["msgid"]: (r["text"], r["urls"]) for r in fast.iter_rows(named=True)}
    assert got["a"] == ("你好", []) and got["b"] == ("你好\nT\nD", ["http://e.cn"])
    assert got["g"] == ('say "link" and \x00', []) and fast["revoked_msgid"].to_list()[7] == "a"

def test_rich_rows_with_body_keys_in_their_tolist_stage_as_the_line_isolating_path(monkeypatch):
    # rich rows are decoded from (and searched for in) the lines without their `tolist` arrays
    # (as the reader read them), the arrays searched by their distinct texts: a body key or NUL
    # escape only inside an array still makes its row rich, and a rich row's bodies are those of
    # its line as written
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block

    bare = {k: v for k, v in GOOD.items() if k != "text"}
    link = {"title": "T", "description": "D", "link_url": "http://e.cn"}
    records = [
        {**GOOD, "msgid": "a", "tolist": ["link", "revoke"]},  # body keys in the array only
        {**bare, "msgid": "b", "msgtype": "link", "link": link, "tolist": ["doc", "x"]},
        {**bare, "msgid": "c", "msgtype": "docmsg", "tolist": [], "doc": {"title": "文档", "link_url": "http://d.cn"}},
        {**GOOD, "msgid": "d", "tolist": ['say "mixed"'], "text": {"content": "[t]"}},
        {**bare, "msgid": "e", "msgtype": "chatrecord", "tolist": ["\u4e2d"],
         "chatrecord": {"title": "R", "item": [{"type": "t", "content": '{"content": "[\\"tolist\\"]"}'}]}},
        {**GOOD, "msgid": "f", "tolist": ["li\u0000si"]},  # a NUL escape in the array only: rejected
        {**GOOD, "msgid": "g"},
    ]
    lines = [json.dumps(r, ensure_ascii=i % 2 == 0, separators=(",", ":") if i % 3 else None)
             for i, r in enumerate(records)]
    # a body under a key spelled with escapes: read by a full decode, for the key in the array
    lines[0] = lines[0][:-1] + ', "\\u0072evoke": {"pre_msgid": "p"}}'
    data = "\n".join(lines).encode()
    stripped: list = []
    real = wa._stripped_lines
    monkeypatch.setattr(wa, "_stripped_lines", lambda *a: stripped.append(real(*a)) or stripped[-1])
    fast, fast_rejects = wa._fast_block(Block(data, 1), "f.jsonl")
    slow, slow_rejects = wa._slow_block(data, 1, "f.jsonl", [])
    assert len(stripped) == 1 and stripped[0] is not None  # the rich rows were decoded from them
    assert f'"tolist":{wa.TOLIST_SENTINEL},' in stripped[0][1] and '"doc"' not in stripped[0][1]
    assert fast_rejects == slow_rejects  # the same lines, reasons and raw text
    assert [r.line for r in fast_rejects] == [6] and fast.equals(slow)
    got = {r["msgid"]: (r["text"], r["urls"]) for r in fast.iter_rows(named=True)}
    assert got["b"] == ("T\nD", ["http://e.cn"]) and got["c"] == ("文档", ["http://d.cn"])
    assert fast["revoked_msgid"].to_list()[0] == "p"


def test_rich_rows_of_each_body_key_stage_as_the_line_isolating_path():
    # each msgtype whose body key differs, a line holding another body too, a text holding a
    # body key, a key spelled with escapes, a type without its body
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block

    bare = {k: v for k, v in GOOD.items() if k != "text"}
    link = {"title": "T", "description": "D", "link_url": "http://e.cn"}
    info = {"content": "C", "filename": "F", "item": [{"title": "N", "description": "d", "url": "u"}]}
    records = [
        {**bare, "msgid": "a", "msgtype": "docmsg", "doc": {"title": "文档", "link_url": "http://d.cn"}},
        {**bare, "msgid": "b", "msgtype": "markdown", "info": {"content": "**M**"}},
        {**bare, "msgid": "c", "msgtype": "news", "info": info},
        {**bare, "msgid": "d", "msgtype": "qydiskfile", "info": {"filename": "盘.doc"}},
        {**bare, "msgid": "e", "msgtype": "external_redpacket", "redpacket": {"wish": "恭喜"}},
        {**GOOD, "msgid": "f", "msgtype": "link", "link": link, "revoke": {"pre_msgid": "r"}},  # another body
        {**GOOD, "msgid": "g", "msgtype": "docmsg", "text": {"content": 'a "link" b'}, "link": link},  # a key in a text
        {**bare, "msgid": "h", "msgtype": "news", "doc": {"title": "under another key"}},  # no info, a doc
        {**GOOD, "msgid": "i", "msgtype": "weapp"},  # no body
        {**bare, "msgid": "j", "msgtype": "redpacket", "redpacket": {"wish": "w"}, "info": {"content": "i"}},
        {**GOOD, "msgid": "k", "msgtype": "link", "link": link},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.append(lines[-1][:-1] + ', "\\u0072evoke": {"pre_msgid": "esc"}}')  # a body key spelled with escapes
    data = "\n".join(lines).encode()
    fast, fast_rejects = wa._fast_block(Block(data, 1), "f.jsonl")
    slow, slow_rejects = wa._slow_block(data, 1, "f.jsonl", [])
    assert fast_rejects == slow_rejects == [] and fast.equals(slow)
    got = {r["msgid"]: (r["text"], r["urls"], r["revoked_msgid"]) for r in fast.iter_rows(named=True)}
    assert got["a"] == ("文档", ["http://d.cn"], None) and got["e"] == ("恭喜", [], None)
    assert got["c"] == ("C\nF\nN\nd", ["u"], None) and got["f"] == ("你好\nT\nD", ["http://e.cn"], "r")
    assert got["h"] == ("under another key", [], None) and got["j"] == ("i\nw", [], None)
    assert fast["revoked_msgid"].to_list()[-1] == "esc"


def test_the_rich_pattern_finds_what_contains_any_finds():
    from wxpipeline.formats import wecom_archive as wa

    texts = pl.Series(['a"link"b', "x\\u0000", "x\\u00001", '"links"', "voip_doc_share", '"voip_doc_share"',
                       '"meeting_voice_call"', '"meeting"x', "\\u000", '\\"revoke\\"', '"text"', "", None])
    assert texts.str.contains(wa._RICH_PATTERN).to_list() == texts.str.contains_any(wa._RICH_SCAN).to_list()
    assert texts.str.contains(wa._RICH_PATTERN).to_list()[:4] == [True, True, True, False]


def test_item_bodies_with_escaped_keys_numbers_and_broken_json(tmp_path):
    # an item's JSON is parsed for a path only when it can hold it: a key spelled with \u escapes
    # must still be found, a number is its text, an item that is not JSON adds nothing
    bare = {k: v for k, v in GOOD.items() if k != "text"}
    items = ['{"\\u0063ontent": "转义的键"}', '{"content": 42}', "not json", '{"title": "T", "link_url": "http://e.cn"}',
             '{"md5sum": "ab", "filesize": 123456789012345678901}']
    mixed = {**bare, "msgid": "mx", "msgtype": "mixed", "mixed": {"item": [{"type": "x", "content": c} for c in items]}}
    res = parse_wecom_archive(write(tmp_path, [json.dumps(mixed, ensure_ascii=False), json.dumps(GOOD)]))
    assert res.rejects == []
    assert res.frame.row(0, named=True)["text"] == "转义的键\n42\nT"
    assert res.frame.row(0, named=True)["urls"] == ["http://e.cn"]


# tolists the text path decodes (escapes, unicode, empty, absent, null, numbers, padding, a NUL,
# a backslash, a quote, a control character) and ones it leaves to the list reader (a string, a
# number, an object, nested values, a `]` in a name, the key after (or only in) a nested object,
# with a space before its colon (alone or before the usual one), at the end of another key, with
# a tab before its array) or that may take either path (the key written twice): each block must
# stage as the list reader alone stages it
_TOLISTS = [["lisi"], [], [" a ", "b c"], ["\u4e2d\u6587", "x y"], ["\u00e9", "\U0001F600", "\u3000w\u3000"], None,
            "absent", ["a", None], [1, 2.5, True, 1e5, 12345678901234567890123], ["  "], [""], ["a\\nb"], ['x"y'],
            ["line\nbreak"], ["\x01"], ["li\u0000si"]]
_SPELLED = ("nested", "nested only", "spaced", "spaced, then as usual", "in a key", "tab")
_TWICE = ("twice", "twice, then null")  # whichever path takes them, the reader's choice of value must agree
_LEFT_TO_THE_LIST_READER = ["s", '["a"]', "[]", 5, {"k": 1}, [["n"], {"o": 1}], ["a]b"], *_SPELLED, *_TWICE]


@pytest.mark.parametrize("odd", [None, *_LEFT_TO_THE_LIST_READER])
def test_tolist_read_as_text_stages_as_the_list_reader(tmp_path, monkeypatch, odd):
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block

    def record(i: int, tolist) -> str:
        rec = {**GOOD, "msgid": f"m{i}"}
        if tolist == "absent":
            del rec["tolist"]
        elif tolist == "null before an array":  # a null is not cut to the next `]`
            rec["tolist"], rec["extra"] = None, ["x"]
        elif isinstance(tolist, str) and tolist in _SPELLED + _TWICE:
            rec["tolist"] = ["lisi"]
        else:
            rec["tolist"] = tolist
        line = json.dumps(rec, ensure_ascii=i % 2 == 0)
        if tolist == "twice":  # the reader keeps one of them: which is its business
            return line[:-1] + ', "tolist": ["wangwu"]}'
        if tolist == "twice, then null":
            return line[:-1] + ', "tolist": null}'
        if tolist == "nested":  # an object before the key holding a key of the same name
            return '{"extra": {"tolist": ["x"]}, ' + line[1:]
        if tolist == "nested only":  # that object, and no `tolist` of the line's own
            return '{"extra": {"tolist": ["x"]}, ' + line[1:].replace('"tolist": ["lisi"], ', "")
        if tolist == "spaced, then as usual":  # the reader takes a key's first value
            return '{"tolist" : ["a"], ' + line[1:]
        if tolist == "in a key":  # the key's text at the end of another key (after an escaped quote)
            return '{"a\\"tolist": ["x"], ' + line[1:]
        if tolist == "tab":
            return line.replace('"tolist": [', '"tolist":\t[')
        return line.replace('"tolist":', '"tolist" :') if tolist == "spaced" else line

    lines = [record(i, t) for i, t in enumerate([*_TOLISTS, "null before an array"] * 2)]
    if odd is not None:
        lines.insert(5, record(99, odd))
    data = ("\n".join(lines)).encode()
    calls: list[bool] = []
    fast_block = wa._fast_block
    monkeypatch.setattr(wa, "_fast_block", lambda block, file, tolist_text=True, mode=None: calls.append(tolist_text)
                        or fast_block(block, file, tolist_text, mode))
    as_text = wa._fast_block(Block(data, 1), "f")
    took_text = calls == [True]  # not read again with `tolist` as a list
    as_list = fast_block(Block(data, 1), "f", tolist_text=False)
    if as_list is None:  # the list reader refuses the block: so does the text path
        assert odd in ("s", '["a"]', "[]", 5, {"k": 1}) and as_text is None
        res = parse_wecom_archive(write(tmp_path, lines))
        assert res.meta["slow_blocks"] == 1
        if isinstance(odd, str):  # a string is one recipient, whatever it looks like
            assert res.frame.filter(pl.col("msgid") == "m99")["recipients"].to_list() == [as_json([odd])]
        return
    assert as_text[0].equals(as_list[0]) and as_text[1] == as_list[1]
    if odd not in _TWICE:
        assert took_text == (odd is None)  # the odd ones are read again as lists
    if odd is None:
        assert as_text[0]["recipients"].to_list()[:9] == [
            '["lisi"]', "[]", '["a","b c"]', '["\u4e2d\u6587","x y"]', '["\u00e9","\U0001F600","w"]', "[]", "[]",
            '["a",null]', '["1","2.5","true","100000","12345678901234567890123"]']


def test_a_file_of_mostly_distinct_tolists_reads_them_as_lists_after_its_first_blocks(tmp_path, monkeypatch):
    from wxpipeline.formats import jsontools
    from wxpipeline.formats import wecom_archive as wa

    seen: list[bool] = []
    fast_block = wa._fast_block

    def spy(block, file, tolist_text=True, mode=None):
        seen.append(tolist_text)
        return fast_block(block, file, tolist_text, mode)

    monkeypatch.setattr(wa, "_fast_block", spy)
    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 2000)
    lists = [[f"u{i}", f" v{i} "] if i % 3 else [f"u{i % 3}"] for i in range(300)]  # two thirds distinct
    lines = [json.dumps({**GOOD, "msgid": f"m{i}", "tolist": t}) for i, t in enumerate(lists)]
    res = parse_wecom_archive(write(tmp_path, lines))
    assert res.rejects == [] and res.meta["slow_blocks"] == 0
    assert res.frame["recipients"].to_list() == [as_json([s.strip() for s in t]) for t in lists]
    assert seen[0] is True and seen[-1] is False and len(seen) > wa.parse_threads() + 2


def test_recipient_lists_decoded_by_earlier_blocks_are_reused_and_give_the_same_lists():
    from wxpipeline.formats import wecom_archive as wa
    from wxpipeline.formats.jsontools import Block

    def flat_and_lines(lists):
        records = [{k: v for k, v in {**GOOD, "msgid": f"m{i}", "tolist": t}.items() if v is not None}
                   for i, t in enumerate(lists)]
        data = "\n".join(json.dumps(r) for r in records).encode()
        block = Block(data, 1)
        return (split_tolists(block, block.lines(strip=False))[1],)

    cache = wa.TolistCache()
    first = [["a", " b "], ["c"], None, ["a", " b "]]
    decoded, distinct, _ = wa.decode_recipients(*flat_and_lines(first), cache)
    assert distinct == 2 and decoded.to_list() == ['["a","b"]', '["c"]', "[]", '["a","b"]']
    assert len(cache.known[0]) == 2
    second = [["c"], ["d"], ["a", " b "], None]  # two known, one new
    decoded, distinct, _ = wa.decode_recipients(*flat_and_lines(second), cache)
    assert distinct == 3 and decoded.to_list() == ['["c"]', '["d"]', '["a","b"]', "[]"]
    assert decoded.equals(wa.decode_recipients(*flat_and_lines(second))[0])  # as without the cache
    assert len(cache.known[0]) == 3
    # with a pattern: which rows' arrays hold it, the texts known from earlier blocks included
    found = wa.decode_recipients(*flat_and_lines([["c"], ["link"], None, ["a", " b "], ["e\u0000"]]), cache,
                                 wa._RICH_PATTERN)[2]
    assert found.to_list() == [False, True, False, False, True]
    assert wa.decode_recipients(*flat_and_lines(second), cache, wa._RICH_PATTERN)[2] is None  # none: None
    found = wa.decode_recipients(*flat_and_lines([["a", " b "], ["link"]]), cache, '"a"')[2]
    assert found.to_list() == [True, False]  # a known text's match
    # a known text does not excuse a new one that must go to the list reader
    assert wa.decode_recipients(*flat_and_lines([["c"], ["x]y"]]), cache)[0] is None  # cut short at its `]`


def test_a_block_that_is_one_blank_line_is_parsed_as_no_rows(tmp_path, monkeypatch):
    # the first block ends at its stretch's last byte, a newline; the next stretch holds only the
    # blank line's newline before a line longer than a block: that block is empty (it raised)
    from wxpipeline.formats import jsontools

    first = json.dumps(GOOD)
    long = json.dumps({**GOOD, "msgid": "m2", "text": {"content": "x" * 3 * len(first)}})
    path = tmp_path / "a.jsonl"
    path.write_text(f"{first}\n\n{long}\n")
    monkeypatch.setattr(jsontools, "CHUNK_BYTES", len(first) - 2)  # the first stretch also reads the 3 BOM bytes
    assert [len(data) for data, _ in jsontools.read_blocks(path)][:2] == [len(first), 0]
    res = parse_wecom_archive(path)
    assert res.rejects == [] and res.frame.select("msgid", "source_line").rows() == [("m1", 1), ("m2", 3)]
