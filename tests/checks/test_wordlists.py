"""The shared word-list matcher: normalisation, list files, vectorised matching, offsets."""

import random

import polars as pl
import pytest

from wxpipeline.checks.textnorm import normalise, normalise_text, to_simplified
from wxpipeline.checks.chat_01_03_05_content import word_list_hits
from wxpipeline.checks.wordlists import WORDLIST_SCHEMA, find_terms, load_word_lists, read_word_list, term_rows
from wxpipeline.policy import load_policy

CHAT01 = ["politics", "pornography", "gambling", "drugs", "violence_terror", "cult_superstition"]


def wl(*rows):
    return pl.DataFrame([(c, t, "test", i) for i, (c, t) in enumerate(rows, 1)], schema=WORDLIST_SCHEMA, orient="row")


@pytest.mark.parametrize("text", ["赌 博", "賭博", "赌*博", "赌\u200b博", "赌\ufeff博", "赌😀博", "赌👍🏻博", "赌️⃣博",
                                  "赌，。！博", "赌\u3000博", "ＤＵ赌\t博"])
def test_evasions_normalise_to_the_term(text):
    assert "赌博" in normalise(pl.Series([text]))[0]
    assert "赌博" in normalise_text(text)[0]


def test_separators_between_other_characters_stay():
    assert normalise(pl.Series(["a b", "赌 1 博", "Hello, 世界"])).to_list() == ["a b", "赌 1 博", "hello, 世界"]


def test_vectorised_and_python_normalisation_agree():
    rng = random.Random(5)
    alphabet = list("赌博大麻烦賭場臺灣乾杯著名 ,.，。！*ＡＢａｂ\u200b\u3000😀👍🏻️İΣς12") + ["\n"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2000)]
    vec = normalise(pl.Series(texts)).to_list()
    for t, v in zip(texts, vec):
        py, origin = normalise_text(t)
        assert py == v, repr(t)
        assert len(origin) == len(py) and all(t_i >= 0 for t_i in origin)


def test_a_chunked_column_is_normalised_chunk_by_chunk_with_the_same_result(monkeypatch):
    import wxpipeline.checks.textnorm as textnorm

    monkeypatch.setattr(textnorm, "_SLICE_ROWS", 3)  # a chunk longer than a slice is sliced too
    monkeypatch.setattr(textnorm, "_MIN_CHUNK_ROWS", 1)
    rows = ["賭 博", None, "ＡＢ赌*博", "乾杯", "x", "赌 1 博", "Hello, 世界", "", "臺灣"]
    chunked = pl.concat([pl.Series("t", rows[:2]), pl.Series("t", rows[2:7]), pl.Series("t", rows[7:])],
                        rechunk=False)
    out = normalise(chunked)
    assert out.to_list() == [normalise(pl.Series([r])).item() for r in rows]
    # the chunks of the input (a frame holding both is not copied to align them), a long one sliced
    assert [c.len() for c in out.get_chunks()] == [2, 3, 2, 2]
    monkeypatch.setattr(textnorm, "_MIN_CHUNK_ROWS", 10)  # many small chunks are joined first
    assert normalise(chunked).to_list() == out.to_list()



def test_width_folding_keeps_every_caseless_character_caseless():
    """`_normalise` lower-cases (and converts t2s) only rows holding a character of `_rare_class`
    in the raw text: sound because folding a `_CASELESS` character gives a `_CASELESS` one."""
    import wxpipeline.checks.textnorm as textnorm

    chars = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    caseless = chars.filter(~chars.str.contains(f"[^{textnorm._CASELESS}]"))
    folded = pl.select(textnorm.fold_width(pl.lit(caseless))).to_series()
    assert caseless.len() > 21_000 and not folded.str.contains(f"[^{textnorm._CASELESS}]").any()
    assert (folded != caseless).sum() == 94 - 26 + 1  # the full-width forms but Ａ-Ｚ, and the ideographic space
    rows = pl.Series(["ＡＢ赌 博", "臺灣，ok", "普通话，句子。", "İstanbul", None, "Straße ΣΑΣ"])
    assert normalise(rows).to_list() == [normalise_text(r)[0] if r is not None else None for r in rows]

def test_t2s_keeps_length_and_leaves_simplified_rows_alone():
    s = pl.Series(["乾隆年間", "这是简体", None, "頭髮"])
    out = to_simplified(s)
    assert out.to_list() == ["乾隆年间", "这是简体", None, "头发"]
    assert [len(x) for x in out.drop_nulls()] == [len(x) for x in s.drop_nulls()]


def test_list_file_format(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("\ufeff# header\n\n赌博\n  百家乐  # inline comment\n#commented\nc#\n", "utf-8")
    assert read_word_list(f, "gambling")["term"].to_list() == ["赌博", "百家乐", "c#"]


def test_default_lists_are_real_and_say_where_they_come_from():
    policy = load_policy().versions[0]
    lists = load_word_lists(policy)
    sizes = dict(lists.group_by("category").len().iter_rows())
    for cat in [*CHAT01, "allow"]:
        assert sizes.get(cat, 0) >= 30, cat
        head = policy.word_list_path(cat).read_text("utf-8").splitlines()[:8]
        assert any("come from" in line for line in head), cat
    assert sum(sizes[c] for c in CHAT01) >= 250
    # every list term is itself found (normalisation of the list matches the text's)
    terms = lists.filter(pl.col("category").is_in(CHAT01)).unique("term")
    hits = find_terms(terms.select(text=pl.col("term")), text="text", word_lists=lists, categories=CHAT01)
    assert set(hits["term"]) >= set(terms["term"]) - set(lists.filter(pl.col("category") == "allow")["term"])


def test_allow_list_suppresses_only_the_hit_it_contains():
    lists = wl(("drugs", "大麻"), ("allow", "大麻烦"))
    texts = pl.DataFrame({"id": [1, 2, 3], "text": ["大麻烦", "大麻烦和大麻", "大 麻 烦"]})
    out = find_terms(texts, text="text", word_lists=lists, categories=["drugs"], allow=["allow"])
    assert out.select("id", "offset").rows() == [(2, 4)]


def test_output_columns_offsets_and_many_rows():
    lists = wl(("gambling", "赌博"), ("gambling", "百家乐"), ("drugs", "冰毒"))
    texts = pl.DataFrame({"msgid": [f"m{i}" for i in range(10_000)],
                          "text": ["普通消息"] * 9_997 + ["賭 博和冰毒", "无", "x百家乐"]})
    out = find_terms(texts, text="text", word_lists=lists, categories=["gambling", "drugs"])
    assert out.columns == ["msgid", "category", "term", "offset", "length", "offset_basis", "matched", "snippet"]
    assert out.select("msgid", "category", "term", "offset", "length", "matched").rows() == [
        ("m9997", "gambling", "赌博", 0, 3, "賭**"), ("m9997", "drugs", "冰毒", 4, 2, "冰*"),
        ("m9999", "gambling", "百家乐", 1, 3, "百**")]
    assert set(out["offset_basis"]) == {"original"}


def test_a_term_in_two_categories_reports_both_and_empty_inputs():
    lists = wl(("gambling", "赌博"), ("violence_terror", "赌博"))
    texts = pl.DataFrame({"id": [1], "text": ["赌博"]})
    assert sorted(find_terms(texts, text="text", word_lists=lists, categories=["gambling", "violence_terror"])
                  ["category"]) == ["gambling", "violence_terror"]
    assert find_terms(texts.clear(), text="text", word_lists=lists, categories=["gambling"]).height == 0
    with pytest.raises(ValueError, match="nothing"):  # a typo in the policy must not silently match nothing
        find_terms(texts, text="text", word_lists=lists, categories=["nothing"])


def test_term_rows_names_every_category_a_row_holds_before_allow_lists():
    lists = wl(("gambling", "赌博"), ("gambling", "网络赌博"), ("drugs", "大麻"), ("allow", "大麻烦"),
               ("abuse", "蠢货"))
    texts = pl.DataFrame({"id": ["a", "b", "c", "d", "e"],
                          "text": ["网 络 賭博", "遇到大麻烦了", "你个蠢货，别去赌博", "正常工作安排", None]})
    texts = texts.with_columns(normalise(texts["text"]).alias("norm"))
    rows = term_rows(texts, key="id", normalised="norm", word_lists=lists)
    # `赌博` inside `网络赌博` is one category once; `大麻` inside the allow phrase is still a candidate
    # (allow lists only ever remove a hit, in find_terms); no row for plain text or no text
    assert sorted(rows.iter_rows()) == [("a", "gambling"), ("b", "allow"), ("b", "drugs"), ("c", "abuse"),
                                        ("c", "gambling")]
    assert term_rows(texts.clear(), key="id", normalised="norm", word_lists=lists).height == 0


def test_word_list_hits_in_the_candidates_equal_hits_in_every_message():
    policy = load_policy().versions[0]
    lists = load_word_lists(policy)
    msgs = pl.DataFrame({"msgid": [f"m{i}" for i in range(6)],
                         "text": ["有人发百家乐链接", "賭 博网站别点", "你个蠢货", "遇到不少大麻烦", "加微信 abc12345 日结300", "收到"]})
    msgs = msgs.with_columns(normalise(msgs["text"]).alias("text_norm"))
    cands = term_rows(msgs, key="msgid", normalised="text_norm", word_lists=lists)
    for cid in ("CHAT-01", "CHAT-02", "CHAT-05"):
        params = policy.params(cid)
        patterns = getattr(params, "patterns", None)
        every = word_list_hits(msgs, lists, params, patterns)
        assert every.height > 0, cid
        assert word_list_hits(msgs, lists, params, patterns, cands).sort("msgid", "offset", "term").equals(
            every.sort("msgid", "offset", "term")), cid


def test_contains_any_of_is_contains_any():
    from wxpipeline.checks.wordlists import contains_any_of

    texts = pl.Series("t", ["a.b+c 中#", "ab", None, "x(y)z", "赌博网", "[q]", "", "A.B"])
    for literals in (["a.b", "(y)", "赌博"], ["[q]", "+c 中"], ["zzz"], ["b", ""]):
        got = pl.select(contains_any_of(pl.lit(texts), literals)).to_series()
        assert got.to_list() == texts.str.contains_any(literals).to_list(), literals
