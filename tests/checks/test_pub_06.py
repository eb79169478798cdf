"""PUB-06 prohibited article content, and the shared word-list matcher behind it."""

import polars as pl
import pytest

from wxpipeline.checks.wordlists import WORDLIST_SCHEMA

from .pub_frames import POLICY, article, articles, evidence, full_chain, reviews, run

REVS = reviews(*full_chain("A1"))


def hits(out):
    return evidence(out)["hits"]


def test_plain_term_in_content_fires_with_masked_evidence():
    out = run("PUB-06", articles(article("A1", content="<p>欢迎参加周末聚会，现场有百家乐活动。</p>")), REVS)
    assert out["subject_id"].to_list() == ["A1"]
    h = hits(out)[0]
    assert (h["field"], h["category"], h["term"], h["offset"], h["offset_basis"]) == (
        "content_text", "gambling", "百家乐", 12, "original")
    assert "【百**】" in h["snippet"] and "百家乐" not in h["snippet"]
    assert "赌博" in out["summary"][0] and "百家乐" not in out["summary"][0]


def test_traditional_and_separators_inside_a_term():
    cases = {"參與賭博": (2, 2), "参与赌 博": (2, 3), "参与赌*博": (2, 3), "参与赌\u200b博": (2, 3),
             "参与赌😀博": (2, 3), "参与ＶＩＰ赌．博": (5, 3), "赌\u3000\u3000博": (0, 4)}
    for text, (offset, length) in cases.items():
        out = run("PUB-06", articles(article("A1", content=f"<p>{text}</p>")), REVS)
        assert [(h["term"], h["offset"], h["length"]) for h in hits(out)] == [("赌博", offset, length)], text


def test_offset_points_into_the_original_text_across_separators():
    out = run("PUB-06", articles(article("A1", content="<p>前言 賭 博</p>")), REVS)
    h = hits(out)[0]
    assert (h["offset"], h["length"], h["offset_basis"]) == (3, 3, "original")


def test_html_split_term_and_numeric_entity():
    out = run("PUB-06", articles(article("A1", content="<p><b>赌</b><span>博</span></p>")), REVS)
    assert hits(out)[0]["term"] == "赌博"
    out = run("PUB-06", articles(article("A1", content="<p>&#36172;博</p>")), REVS)
    assert hits(out)[0]["term"] == "赌博"


def test_allow_list_suppresses_containing_phrase_only():
    clean = article("A1", content="<p>这是个大麻烦。禁毒宣传月：远离毒品，珍爱生命。</p>")
    assert run("PUB-06", articles(clean), REVS).height == 0
    dirty = article("A1", content="<p>这是个大麻烦，他还带了大麻。</p>")
    assert [h["term"] for h in hits(run("PUB-06", articles(dirty), REVS))] == ["大麻"]


def test_title_digest_author_are_checked():
    out = run("PUB-06", articles(article("A1", title="六合彩开奖", digest="摘要：冰毒", author="法轮功")), REVS)
    assert {(h["field"], h["category"]) for h in hits(out)} == {
        ("title", "gambling"), ("digest", "drugs"), ("author", "cult_superstition")}
    assert evidence(out)["hit_count"] == 3


def test_longer_term_absorbs_the_shorter_and_near_misses():
    out = run("PUB-06", articles(article("A1", content="<p>严防网络赌博</p>")), REVS)
    assert [h["term"] for h in hits(out)] == ["网络赌博"]
    ordinary = article("A1", title="公司秋季运动会圆满举行", content="<p>员工表现出色情况良好，平台独家合作。</p>")
    assert run("PUB-06", articles(ordinary), REVS).height == 0


def test_phone_numbers_in_snippets_are_masked():
    out = run("PUB-06", articles(article("A1", content="<p>百家乐，电话13812345678</p>")), REVS)
    assert hits(out)[0]["snippet"] == "【百**】，电话*****…"
    out = run("PUB-06", articles(article("A1", content="<p>百家乐12345678</p>")), REVS)
    assert hits(out)[0]["snippet"] == "【百**】****5678"


def test_word_lists_come_from_the_frame_and_a_missing_list_is_an_error():
    wl = pl.DataFrame([("gambling", "周末聚会", "x", 1), ("allow", "不参加周末聚会", "x", 2)],
                      schema=WORDLIST_SCHEMA, orient="row")
    params = POLICY.params("PUB-06").model_copy(update={"categories": ["gambling"]})
    out = run("PUB-06", articles(article("A1", content="<p>欢迎参加周末聚会</p>")), REVS, word_lists=wl, params=params)
    assert hits(out)[0]["term"] == "周末聚会"
    with pytest.raises(ValueError, match="drugs"):
        run("PUB-06", articles(article("A1")), REVS, word_lists=wl)
