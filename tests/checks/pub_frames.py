"""Builders for the publishing rule tests: articles and review sign-offs with the staged schemas."""

from __future__ import annotations

import json
from datetime import date

import polars as pl

from wxpipeline.checks.registry import CLAUSES
from wxpipeline.checks.wordlists import load_word_lists
from wxpipeline.policy import load_policy

from .frames import frame, ts

DAY = date(2026, 9, 24)
PUBLISHED = "2026-09-24 10:00:00"
POLICY = load_policy().for_day(DAY)


def article(aid: str, at: str = PUBLISHED, *, idx: int = 1, title: str = "公司召开安全生产会议", content: str = "<p>正文</p>",
            source_url: str | None = None, digest: str = "", author: str = "市场部", deleted: bool = False) -> dict:
    from wxpipeline.formats.mp_publish import content_text

    text = content_text(pl.Series([content]))[0]
    return {"article_id": aid, "idx": idx, "title": title, "author": author, "digest": digest, "content": content,
            "content_text": text, "content_source_url": source_url, "url": f"http://mp.weixin.qq.com/s?idx={idx}",
            "is_deleted": deleted, "created_at": ts("2026-09-01 09:00:00"), "published_at": ts(at)}


def articles(*rows: dict) -> pl.DataFrame:
    return frame("mp_published", list(rows))


def signoff(aid: str, stage: str, at: str, flags: str = "", signer: str = "E0001") -> dict:
    fl = [f for f in flags.split(";") if f]
    return {"article_id": aid, "stage": stage, "signer_employee_id": signer, "signed_at": ts(at), "flags": flags,
            "important": "important" in fl, "expedited": "expedited" in fl, "repost": "repost" in fl}


def reviews(*rows: dict) -> pl.DataFrame:
    return frame("mp_reviews", list(rows))


def full_chain(aid: str, draft: str = "2026-09-20 09:00:00", approve: str = "2026-09-24 09:00:00",
               flags: str = "", extra: tuple[dict, ...] = ()) -> list[dict]:
    """A compliant chain: draft 4 days ahead, reviews the day before, approval 1 h before publishing."""
    return [
        signoff(aid, "draft_submitted", draft, flags, "E0012"),
        signoff(aid, "dept_head_review", "2026-09-23 10:00:00", flags, "E0011"),
        signoff(aid, "division_lead_review", "2026-09-23 15:00:00", flags, "E0002"),
        signoff(aid, "editor", "2026-09-23 16:00:00", flags, "E0010"),
        signoff(aid, "proofread", "2026-09-23 17:00:00", flags, "E0009"),
        signoff(aid, "platform_lead_approval", approve, flags, "E0011"),
        *extra,
    ]


def run(clause_id: str, arts: pl.DataFrame, revs: pl.DataFrame, day: date = DAY, params=None,
        word_lists: pl.DataFrame | None = None) -> pl.DataFrame:
    frames = {"articles": arts, "reviews": revs,
              "word_lists": word_lists if word_lists is not None else load_word_lists(POLICY)}
    return CLAUSES[clause_id].run(frames, params or POLICY.params(clause_id), day)


def evidence(out: pl.DataFrame, i: int = 0) -> dict:
    return json.loads(out["evidence"][i])
