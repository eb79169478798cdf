"""`recipients`: one canonical JSON text a message, the same on every parse path."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.formats.wecom_archive import parse_wecom_archive
from wxpipeline.formats.wecom_recipients import canonical_recipients, nul_in_recipients

GOOD = {"msgid": "m1", "action": "send", "from": "zhangsan", "tolist": ["lisi"], "roomid": "",
        "msgtime": 1790000000123, "msgtype": "text", "text": {"content": "你好"}}
# names with what JSON escapes or may spell otherwise (unicode escapes, quotes, backslashes,
# control characters, a backslash before `u0000` that is no NUL), padding, empty, absent, null
LISTS = [["lisi"], [], [" a ", "b c"], ["\u4e2d\u6587", "x y"], ["\u00e9", "\U0001F600", "\u3000w\u3000"], None,
         "absent", ["a", None], ["  "], [""], ["a\\nb"], ['x"y'], ["line\nbreak"], ["\x01", "\b\f\t\r"],
         ["\\u0000"], ["\\"], ["/", "\x7f", "\u2028"], ["lisi", "lisi"]]


# numbers are names as written (the reader reads every leaf as text)
NUMBERS = ([1, 2.5, True, 1e5, 12345678901234567890123], '["1","2.5","true","100000","12345678901234567890123"]')


def as_json(names: list) -> str:
    return json.dumps(names, ensure_ascii=False, separators=(",", ":"))


def line(i: int, tolist) -> str:
    rec = {**GOOD, "msgid": f"m{i}"}
    if tolist == "absent":
        del rec["tolist"]
    else:
        rec["tolist"] = tolist
    return json.dumps(rec, ensure_ascii=i % 2 == 0)  # escaped and as written


def parse(tmp_path: Path, lines: list[str], name: str):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return parse_wecom_archive(path)


def expected(tolist) -> str:
    return as_json([None if n is None else n.strip() for n in tolist] if isinstance(tolist, list) else [])


def test_canonical_text_is_the_compact_json_of_the_stripped_names_and_decodes_back():
    lists = [t if isinstance(t, list) else None for t in LISTS]
    texts = pl.Series("l", lists, pl.List(pl.String)).to_frame().select(canonical_recipients(pl.col("l"))).to_series()
    assert texts.to_list() == [expected(t) for t in LISTS]
    assert texts.str.json_decode(pl.List(pl.String)).to_list() == [json.loads(expected(t)) for t in LISTS]


@pytest.mark.parametrize("fast_mode", ["text", "list"])
def test_every_parse_path_gives_the_same_text_for_the_same_list(tmp_path, monkeypatch, fast_mode):
    from wxpipeline.formats import wecom_archive as wa

    if fast_mode == "list":  # the fast path with `tolist` read as a list by the NDJSON reader
        fast_block = wa._fast_block
        monkeypatch.setattr(wa, "_fast_block", lambda block, file, tolist_text=True, mode=None:
                            fast_block(block, file, False, mode))
    lines = [line(i, t) for i, t in enumerate([*LISTS, NUMBERS[0], *LISTS])]
    fast = parse(tmp_path, lines, "fast.jsonl")
    slow = parse(tmp_path, [*lines, "{not json"], "slow.jsonl")  # the block goes line by line
    assert fast.meta["slow_blocks"] == 0 and slow.meta["slow_blocks"] == 1
    assert fast.rejects == [] and [r.line for r in slow.rejects] == [len(lines) + 1]
    assert fast.frame.schema["recipients"] == pl.String
    assert fast.frame["recipients"].to_list() == [*map(expected, LISTS), NUMBERS[1], *map(expected, LISTS)]
    assert slow.frame["recipients"].equals(fast.frame["recipients"])


@pytest.mark.parametrize("slow", [False, True])
def test_a_nul_in_a_recipient_id_is_quarantined_on_every_path(tmp_path, slow):
    lines = [line(1, ["lisi"]), line(2, ["li\u0000si"]), line(3, ["\\\u0000"]), line(4, ["\\u0000", "a\\"]),
             line(5, ["ok", "\u0000"])]
    res = parse(tmp_path, lines + (["{not json"] if slow else []), "nul.jsonl")
    assert res.meta["slow_blocks"] == int(slow)
    assert [(r.line, r.reason) for r in res.rejects if "NUL" in r.reason] == [
        (n, "NUL byte in msgid, from, tolist or roomid") for n in (2, 3, 5)]
    # the text `\u0000` (a backslash, then u0000) is a name like any other
    assert res.frame["recipients"].to_list() == ['["lisi"]', as_json(["\\u0000", "a\\"])]


def test_nul_search_tells_an_escaped_nul_from_the_text_of_one():
    names = [["a\u0000"], ["\\u0000"], ["\\\u0000"], ["\\\\u0000"], ["\\\\\u0000"], ["x", "\u0000"], ["u0000"]]
    texts = pl.Series("t", [as_json(n) for n in names])
    got = texts.to_frame().select(nul_in_recipients(pl.col("t")))["t"].to_list()
    assert got == [any("\u0000" in n for n in ns) for ns in names] == [True, False, True, False, True, True, False]


def test_segments_of_a_block_join_into_one_array_without_a_python_object_per_range():
    import numpy as np
    import pyarrow as pa

    from wxpipeline.formats.jsontools import join_segments

    data = b'{"msgid": "m1", "tolist": ["lisi"]}\nxy'
    extra = b"a sentinel of 19 b."
    # long (a prefix and an offset), inline (12 bytes or fewer), empty, from `extra`, null
    offsets = np.array([0, 26, 36, 0, -1, 1])
    lengths = np.array([26, 8, 2, 0, len(extra), 5])
    joined = join_segments(data, offsets, lengths, extra, valid=np.array([1, 1, 1, 1, 1, 0], bool))
    assert joined.cast(pa.large_binary()).to_pylist() == [
        b'{"msgid": "m1", "tolist": ', b'["lisi"]', b"xy", b"", extra, None]
    assert pl.from_arrow(joined).cast(pl.String).to_list()[:2] == ['{"msgid": "m1", "tolist": ', '["lisi"]']
    assert join_segments(b"ab", np.array([0, 1]), np.array([2, 1])).to_pylist() == [b"ab", b"b"]  # under 4 bytes
    # Arrow's inline views are zero-padded (views are compared 16 bytes at a time): an empty range
    # is all zeros but its length, a short one its bytes then zeros, near the end of the data too
    views = np.frombuffer(joined.buffers()[1], np.uint8).reshape(-1, 16)
    assert views[3].tolist() == [0] * 16
    assert np.frombuffer(join_segments(data, np.array([30]), np.array([0])).buffers()[1], np.uint8).tolist() == [0] * 16
    assert bytes(views[1, 4:]) == b'["lisi"]'.ljust(12, b"\0") and bytes(views[2, 4:]) == b"xy".ljust(12, b"\0")


def test_tolist_arrays_are_cut_out_for_the_reader_and_bytes_that_are_not_utf8_left_to_the_list_reader(tmp_path):
    from wxpipeline.formats.jsontools import Block
    from wxpipeline.formats.wecom_recipients import _SENTINEL_TEXT, TolistCache, decode_recipients, split_tolists

    lines = [line(0, ["lisi", "wangwu"]), line(1, "absent"), line(2, None), line(3, [])]
    block = Block("\n".join(lines).encode(), 1)
    stripped, texts, replaced = split_tolists(block, block.lines(strip=False))
    assert texts.to_list() == [' ["lisi", "wangwu"]', None, None, " []"] and replaced.tolist() == [1, 0, 0, 1]
    assert stripped.split(b"\n")[0] == lines[0].encode().replace(b' ["lisi", "wangwu"]', _SENTINEL_TEXT)
    assert stripped.split(b"\n")[1:3] == [s.encode() for s in lines[1:3]]  # left as written
    # a GB18030 name: the text path gives up, the list reader refuses the block, its line is recoded
    gbk = json.dumps({**GOOD, "tolist": ["李四"]}, ensure_ascii=False).encode("gb18030")
    odd = Block(gbk + b"\n" + lines[0].encode(), 1)
    odd_texts = split_tolists(odd, odd.lines(strip=False, utf8=True))[1]  # as `_fast_block` calls it
    assert decode_recipients(odd_texts)[0] is None  # its bytes checked by the decode, not by the split
    cache = TolistCache()  # a text equal to a known one is not checked again: it is UTF-8
    assert decode_recipients(split_tolists(block, block.lines(strip=False, utf8=True))[1], cache)[0] is not None
    assert decode_recipients(odd_texts, cache)[0] is None
    path = tmp_path / "gb.jsonl"
    path.write_bytes(gbk + b"\n" + lines[0].encode() + b"\n")
    res = parse_wecom_archive(path)
    assert res.meta["gb18030_lines"] == 1 and res.frame["recipients"].to_list() == ['["李四"]', '["lisi","wangwu"]']
