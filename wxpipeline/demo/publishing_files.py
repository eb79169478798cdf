"""Writing the demo's official-account exports: `mp_published/*.json` pages as the
`freepublish/batchget` API returns them, and the `mp_reviews/*.csv` sign-off sheets."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from wxpipeline.demo.publishing import EXPORT_EVERY_DAYS, EXPORT_OVERLAP_DAYS, PAGE_SIZE, Pub, REVIEW_HEADER, STAGE_ORDER

if TYPE_CHECKING:
    from . import DemoContext


def _item(pub: Pub, export_day: date, inner_time: bool) -> dict:
    news = []
    for idx, n in enumerate(pub.news, 1):
        n = {**n, "url": n["url"].replace("{idx}", str(idx))}
        n["is_deleted"] = pub.deleted_after is not None and export_day > pub.deleted_after
        news.append(n)
    created = min(t for _, _, t in pub.chain) if pub.chain else pub.published - timedelta(hours=2)
    content = {"news_item": news, "create_time": int(created.timestamp())}
    if inner_time:  # some exporters keep update_time inside content only
        return {"article_id": pub.aid, "content": {**content, "update_time": int(pub.published.timestamp())}}
    return {"article_id": pub.aid, "content": content, "update_time": int(pub.published.timestamp())}


def write_pages(ctx: DemoContext, pubs: list[Pub]) -> None:
    ends = []
    d = ctx.start + timedelta(days=EXPORT_EVERY_DAYS - 1)
    while d < ctx.end:
        ends.append(d)
        d += timedelta(days=EXPORT_EVERY_DAYS)
    ends.append(ctx.end)
    for k, end in enumerate(ends):
        start = ctx.start if k == 0 else ends[k - 1] - timedelta(days=EXPORT_OVERLAP_DAYS - 1)
        export_day = end + timedelta(days=1)
        batch = sorted((p for p in pubs if start <= p.published.date() <= end), key=lambda p: p.published, reverse=True)
        for offset in range(0, max(len(batch), 1), PAGE_SIZE):
            page = batch[offset:offset + PAGE_SIZE]
            doc = {"item": [_item(p, export_day, inner_time=k == 0) for p in page],
                   "total_count": len(batch), "item_count": len(page)}
            text = json.dumps(doc, ensure_ascii=False, indent=1)
            if k % 2 == 0:
                text = text.replace("/", "\\/")  # as the API sends it
            rel = f"mp_published/freepublish_batchget_{export_day:%Y%m%d}_offset{offset}.json"
            ctx.write_bytes(rel, text.encode("utf-8"), sum(len(p.news) for p in page))


def write_reviews(ctx: DemoContext, pubs: list[Pub]) -> None:
    months: dict[str, list[list[str]]] = {}
    for pub in sorted(pubs, key=lambda p: (p.published, p.aid)):
        rows = months.setdefault(f"{pub.published:%Y-%m}", [])
        for i, (stage, signer, at) in enumerate(sorted(pub.chain, key=lambda c: (c[2], STAGE_ORDER.index(c[0])))):
            flags = pub.flags if pub.flags_on_every_row or stage == "draft_submitted" else ""
            rows.append([pub.aid, stage, signer, f"{at:%Y-%m-%d %H:%M:%S}", flags])
    for i, (month, rows) in enumerate(sorted(months.items())):
        ctx.write_csv(f"mp_reviews/mp_review_records_{month}.csv", REVIEW_HEADER, rows, bom=i == 0, crlf=i == 0)
