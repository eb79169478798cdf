"""A small publishing exports folder: freepublish/batchget pages and review sign-offs, by hand."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .exports_fixture import write_exports

SH = ZoneInfo("Asia/Shanghai")


def unix(s: str) -> int:
    return int(datetime.fromisoformat(s).replace(tzinfo=SH).timestamp())


def item(aid: str, at: str, *news: dict, inner_time: bool = False) -> dict:
    content = {"news_item": list(news), "create_time": unix(at) - 86400}
    if inner_time:  # some exporters put update_time inside content only
        return {"article_id": aid, "content": {**content, "update_time": unix(at)}}
    return {"article_id": aid, "content": content, "update_time": unix(at)}


def news(title: str, content: str = "<p>公司新闻。</p>", source_url: str = "", deleted: bool = False) -> dict:
    return {"title": title, "author": "市场部", "digest": "", "content": content, "content_source_url": source_url,
            "thumb_media_id": "x", "show_cover_pic": 0, "url": "http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1",
            "thumb_url": "", "need_open_comment": 0, "only_fans_can_comment": 0, "is_deleted": deleted}


def chain(aid: str, draft: str, approve: str, flags: str = "") -> list[str]:
    return [f"{aid},draft_submitted,E0001,{draft},{flags}",
            f"{aid},dept_head_review,E0002,2026-09-23 10:00:00,{flags}",
            f"{aid},division_lead_review,E0002,2026-09-23 11:00:00,{flags}",
            f"{aid},platform_lead_approval,E0002,{approve},{flags}"]


def write_publishing_exports(root: Path) -> Path:
    write_exports(root)  # reference data (roster) and a payments domain beside
    (root / "mp_published").mkdir(parents=True, exist_ok=True)
    (root / "mp_reviews").mkdir(parents=True, exist_ok=True)
    page1 = {"item": [
        item("A1", "2026-09-24 10:00:00", news("公司召开安全生产会议")),
        item("A2", "2026-09-24 11:00:00", news("国庆假期安排（加急）"), inner_time=True),
        item("A3", "2026-09-24 15:00:00", news("周末活动", "<p>欢迎參與賭 博</p>")),
        item("A4", "2026-09-24 16:00:00", news("行业动态", "<p>来源：新华社</p>"), news("第二篇", "<p>本文转载自网络</p>")),
        {"media_id": "DRAFT1", "content": {"news_item": [news("未发布草稿")], "update_time": unix("2026-09-24 09:00:00")}},
    ], "total_count": 5, "item_count": 5}
    text = json.dumps(page1, ensure_ascii=False, indent=1).replace("/", "\\/")  # the API escapes slashes
    (root / "mp_published/freepublish_20260924_0.json").write_text(text, "utf-8")
    again = {"item": [item("A1", "2026-09-24 10:00:00", news("公司召开安全生产会议"))], "total_count": 1, "item_count": 1}
    (root / "mp_published/freepublish_20260925_0.json").write_text(json.dumps(again, ensure_ascii=False), "utf-8")
    rows = ["article_id,stage,signer_employee_id,signed_at,flags",
            *chain("A1", "2026-09-20 09:00:00", "2026-09-24 09:00:00"),
            *chain("A2", "2026-09-24 08:00:00", "2026-09-24 10:30:00", "expedited"),
            *chain("A4", "2026-09-19 09:00:00", "2026-09-23 18:00:00"),
            "A4,proofread,E0001,2026-09-23 12:00:00,bogus"]
    (root / "mp_reviews/reviews_2026-09.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return root
