"""The demo's publishing exports: API-shaped pages and sign-off CSVs, and the planted PUB
violations are exactly what a plain reading of CLAUSES.md finds (no more)."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wxpipeline.checks.textnorm import normalise_text
from wxpipeline.demo import write_demo
from wxpipeline.policy import load_policy

SH = ZoneInfo("Asia/Shanghai")
PUB = [f"PUB-0{i}" for i in range(1, 7)]
CHAT01 = ["politics", "pornography", "gambling", "drugs", "violence_terror", "cult_superstition"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    return root, write_demo(root)


def _articles(root: Path) -> dict[str, dict]:
    """article_id -> {published, news: [...]}, later export files winning."""
    out: dict[str, dict] = {}
    for p in sorted((root / "mp_published").glob("*.json")):
        for it in json.loads(p.read_text("utf-8"))["item"]:
            t = it.get("update_time", it["content"].get("update_time"))
            out[it["article_id"]] = {"published": datetime.fromtimestamp(t, SH), "news": it["content"]["news_item"]}
    return out


def _reviews(root: Path) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: {"stages": {}, "flags": set()})
    for p in sorted((root / "mp_reviews").glob("*.csv")):
        with p.open(encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                rec = out[r["article_id"]]
                rec["stages"][r["stage"]] = datetime.fromisoformat(r["signed_at"]).replace(tzinfo=SH)
                rec["flags"] |= {f for f in r["flags"].split(";") if f}
    return out


def _text(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _terms() -> tuple[dict[str, list[str]], list[str]]:
    policy = load_policy().versions[0]
    lists = {}
    for cat in [*CHAT01, "allow"]:
        lines = policy.word_list_path(cat).read_text("utf-8").splitlines()
        terms = [re.split(r"(?:^|\s)#", line)[0].strip() for line in lines]
        lists[cat] = [normalise_text(t)[0] for t in terms if t]
    return {c: lists[c] for c in CHAT01}, lists["allow"]


def _has_prohibited(text: str, terms: dict[str, list[str]], allow: list[str]) -> bool:
    norm = normalise_text(text)[0]
    covers = [(m.start(), m.start() + len(a)) for a in allow for m in re.finditer(re.escape(a), norm)]
    for words in terms.values():
        for w in words:
            for m in re.finditer(f"(?={re.escape(w)})", norm):
                s, e = m.start(), m.start() + len(w)
                if not any(a <= s and e <= b for a, b in covers):
                    return True
    return False


def _naive(root: Path, end: date) -> dict[str, set[str]]:
    arts, revs = _articles(root), _reviews(root)
    terms, allow = _terms()
    found: dict[str, set[str]] = {c: set() for c in PUB}
    for aid, a in arts.items():
        p = a["published"]
        rv = revs.get(aid, {"stages": {}, "flags": set()})
        st, flags = rv["stages"], rv["flags"]
        need = ["dept_head_review", "division_lead_review", "platform_lead_approval"]
        need += ["top_leader_approval"] if "important" in flags else []
        if any(s not in st or st[s] >= p for s in need):
            found["PUB-01"].add(aid)
        if "expedited" not in flags and ("draft_submitted" not in st or p - st["draft_submitted"] < timedelta(hours=72)):
            found["PUB-02"].add(aid)
        gm = st.get("gm_report")
        if "expedited" in flags and (gm is None or gm.date() > p.date()) and p.date() + timedelta(days=1) <= end:
            found["PUB-03"].add(aid)
        last = st.get("top_leader_approval") or st.get("platform_lead_approval")
        if last is not None and last.date() != p.date():
            found["PUB-04"].add(aid)
        for n in a["news"]:
            body = _text(n["content"])
            folded = re.sub(r"\s+", "", body.replace("：", ":"))
            reposted = "repost" in flags or "转载" in re.sub("禁止转载|转载请注明", "", folded)
            sourced = n["content_source_url"] or any(m in folded for m in ("来源:", "转自", "原文链接", "出处:"))
            if reposted and not sourced:
                found["PUB-05"].add(aid)
            if any(_has_prohibited(n[f], terms, allow) for f in ("title", "digest", "author")) or \
                    _has_prohibited(body, terms, allow):
                found["PUB-06"].add(aid)
    return found


def test_every_pub_clause_planted_and_exactly_found(demo):
    root, summary = demo
    found = _naive(root, date.fromisoformat(summary["end"]))
    for clause in PUB:
        assert summary["planted"].get(clause), clause
        assert found[clause] == set(summary["planted"][clause]), clause
        assert summary["near_misses"].get(clause), clause


def test_pages_look_like_freepublish_batchget(demo):
    root, summary = demo
    files = [f for f in summary["files"] if f.startswith("mp_published/")]
    assert len(files) >= 4 and all(f.endswith(".json") for f in files)
    escaped = deleted = inner = multi = 0
    seen: dict[str, int] = defaultdict(int)
    for rel in files:
        raw = (root / rel).read_text("utf-8")
        escaped += "\\/" in raw
        doc = json.loads(raw)
        assert set(doc) == {"item", "total_count", "item_count"} and doc["item_count"] == len(doc["item"])
        assert summary["rows"][rel] == sum(len(i["content"]["news_item"]) for i in doc["item"])
        for it in doc["item"]:
            seen[it["article_id"]] += 1
            inner += "update_time" not in it
            multi += len(it["content"]["news_item"]) > 1
            deleted += any(n["is_deleted"] for n in it["content"]["news_item"])
            assert len(it["article_id"]) == 43
    assert escaped and deleted and inner and multi
    assert any(n > 1 for n in seen.values()), "weekly exports should overlap"


def test_review_csvs(demo):
    root, summary = demo
    files = [f for f in summary["files"] if f.startswith("mp_reviews/")]
    assert files
    for rel in files:
        raw = (root / rel).read_bytes()
        with (root / rel).open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == summary["rows"][rel]
        assert list(rows[0]) == ["article_id", "stage", "signer_employee_id", "signed_at", "flags"]
    assert any((root / f).read_bytes().startswith(b"\xef\xbb\xbf") for f in files)


@pytest.mark.parametrize("days,end", [(7, date(2026, 10, 17)), (45, date(2026, 10, 31)), (30, date(2031, 3, 20))])
def test_other_periods_still_consistent(tmp_path, days, end):
    summary = write_demo(tmp_path, end=end, days=days)
    found = _naive(tmp_path, end)
    for clause in PUB:
        assert found[clause] == set(summary["planted"].get(clause, [])), clause
