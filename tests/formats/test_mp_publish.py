"""mp_published/*.json (freepublish/batchget) and mp_reviews/*.csv parsers."""

import json
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.mp_publish import parse_mp_json, parse_mp_published
from wxpipeline.formats.mp_reviews import parse_mp_reviews
from wxpipeline.formats.schemas import SCHEMAS

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-exports" / "mp_publish"
SAMPLES = sorted(REAL.glob("*.json")) if REAL.is_dir() else []


@pytest.mark.skipif(not SAMPLES, reason="shared/real-exports not beside the repository")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_real_sample_parses(path):
    result = parse_mp_json(path)
    assert result.frame.height >= 1 and not result.rejects
    kinds = set(result.frame["record_type"])
    if "draft" in path.name:
        assert kinds == {"draft"}
    staged = parse_mp_published(path)
    assert dict(staged.frame.schema) == SCHEMAS["mp_articles"]
    # whatever is not a judgeable publication is a reject with its reason, never dropped
    assert staged.frame.height + len(staged.rejects) == result.frame.height


@pytest.mark.skipif(not SAMPLES, reason="shared/real-exports not beside the repository")
def test_real_freepublish_page_values():
    f = parse_mp_published(REAL / "wxjava_freepublish_batchget.json").frame
    row = f.row(0, named=True)
    assert row["article_id"] == "zjMKVd1g66BkEkpetwml4BOSzatuEYNY3TFhCc0kSIE" and row["idx"] == 1
    assert str(row["published_at"]) == "2021-10-23 16:05:18+08:00"  # content.update_time, Asia/Shanghai
    assert str(row["created_at"]) == "2021-10-23 16:05:06+08:00"
    assert row["content_source_url"] == "https://github.com/Wechat-Group/WxJava" and row["is_deleted"] is False


def page(items, escape=False):
    text = json.dumps({"item": items, "total_count": len(items), "item_count": len(items)}, ensure_ascii=False, indent=1)
    return text.replace("/", "\\/") if escape else text


def news(title, content="<p>正文</p>", **kw):
    return {"title": title, "author": "市场部", "digest": "", "content": content, "content_source_url": "",
            "url": "http://mp.weixin.qq.com/s?__biz=MzA==&mid=1&idx=1", "is_deleted": False, **kw}


def test_batchget_page_shapes(tmp_path):
    p = tmp_path / "page.json"
    p.write_text(page([
        {"article_id": "A1", "update_time": 1790000000,
         "content": {"news_item": [news("第一篇"), news("第二篇", "<p>甲</p><br/><p>乙&nbsp;&amp;&#36172;</p>")],
                     "create_time": 1789000000}},
        {"article_id": "A2", "content": {"news_item": [news("删除的", is_deleted=True)], "update_time": 1790001000}},
        {"article_id": "A3", "content": {"news_item": [news("无时间")]}},
        {"media_id": "M1", "content": {"news_item": [news("草稿")], "update_time": 1790000000}},
    ], escape=True), "utf-8")
    r = parse_mp_published(p)
    f = r.frame
    assert f.select("article_id", "idx", "title").rows() == [("A1", 1, "第一篇"), ("A1", 2, "第二篇"), ("A2", 1, "删除的")]
    assert f["url"][0] == "http://mp.weixin.qq.com/s?__biz=MzA==&mid=1&idx=1"  # \/ escapes undone
    assert f["content_text"][1] == "甲\n乙 &赌"
    assert f["is_deleted"].to_list() == [False, False, True]
    assert f["published_at"][2].isoformat() == "2026-09-21T22:30:00+08:00"  # update_time inside content
    assert [(x.line > 1, x.reason.split(":")[0]) for x in r.rejects] == [
        (True, "published A3 #1"), (True, "draft M1 #1")]
    assert "no update_time" in r.rejects[0].reason


def test_list_of_pages_jsonl_and_errors(tmp_path):
    one = {"item": [{"article_id": "A1", "update_time": 1790000000, "content": {"news_item": [news("t")]}}]}
    (tmp_path / "list.json").write_text(json.dumps([one, one]), "utf-8")
    assert parse_mp_published(tmp_path / "list.json").frame.height == 2  # duplicates are deduped by the scan
    (tmp_path / "lines.json").write_text(json.dumps(one) + "\n" + json.dumps(one) + "\n", "utf-8")
    assert parse_mp_published(tmp_path / "lines.json").frame.height == 2
    (tmp_path / "err.json").write_text('{"errcode": 40001, "errmsg": "invalid credential"}', "utf-8")
    with pytest.raises(ExportFormatError, match="40001"):
        parse_mp_json(tmp_path / "err.json")
    (tmp_path / "bad.json").write_text('{"item": [', "utf-8")
    with pytest.raises(ExportFormatError, match="not JSON"):
        parse_mp_json(tmp_path / "bad.json")
    (tmp_path / "odd.json").write_text('{"item": [{"article_id": "A9", "content": {}}, 3]}', "utf-8")
    r = parse_mp_published(tmp_path / "odd.json")
    assert r.frame.height == 0 and [x.reason for x in r.rejects] == [
        "item[0]: no content.news_item list", "item[1]: not an object"]


def test_reviews_csv(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "\ufeffarticle_id,stage,signer_employee_id,signed_at,flags\r\n"
        "A1,draft_submitted,E0012,2026-09-20 09:00:00,important;repost\r\n"
        "A1,Dept_Head_Review,E0011,2026-09-23 10:00,\r\n"
        "A1,gm_report,E0001,2026/09/24 17:30:00,EXPEDITED；important\r\n"
        "A1,ceo_review,E0001,2026-09-24 17:30:00,\r\n"
        "A1,editor,E0010,2026-09-24,\r\n"
        "A1,proofread,E0009,2026-09-24 08:00:00,urgent\r\n"
        "A1,editor,,2026-09-24 08:00:00,\r\n",
        "utf-8",
    )
    r = parse_mp_reviews(p)
    assert dict(r.frame.schema) == SCHEMAS["mp_signoffs"]
    assert r.frame.select("stage", "flags", "important", "expedited", "repost").rows() == [
        ("draft_submitted", "important;repost", True, False, True),
        ("dept_head_review", "", False, False, False),
        ("gm_report", "expedited;important", True, True, False),
    ]
    assert [(x.line, x.reason.split(":")[0]) for x in r.rejects] == [
        (5, "stage"), (6, "signed_at"), (7, "flags"), (8, "signer_employee_id")]
