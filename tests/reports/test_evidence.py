"""Evidence for people: a real finding of every clause (taken from the demo's findings store)
reads as Chinese sentences and labelled fields — no JSON key, brace or quote — and the daily
report built from them shows none of the evidence keys."""

import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.checks.findings import FINDING_SCHEMA
from wxpipeline.checks.registry import CLAUSES, load_all
from wxpipeline.reports import collect_report
from wxpipeline.reports.build import render_html
from wxpipeline.reports.evidence import LABELS, UNLABELLED, format_evidence
from wxpipeline.reports.masking import evidence_text
from wxpipeline.resources.warehouse import Warehouse
from wxpipeline.store import findings as findings_store

SAMPLES = json.loads((Path(__file__).parent / "evidence_samples.json").read_text("utf-8"))
DAY = date(2026, 10, 12)


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_a_sample_of_every_clause():
    load_all()
    assert set(SAMPLES) == set(CLAUSES)


@pytest.mark.parametrize("clause_id", sorted(SAMPLES))
def test_evidence_reads_as_chinese(clause_id):
    ev = SAMPLES[clause_id]["evidence"]
    text = evidence_text(json.dumps(ev, ensure_ascii=False), clause_id)
    assert text and not re.search(r'[{}"]', text)
    assert UNLABELLED not in text, f"{clause_id}: a key without a Chinese label"
    for key in _keys(ev):
        assert key in LABELS, f"{clause_id}: no label for {key!r}"
        if "_" in key:  # snake_case keys never leak; single words are checked as `key:` below
            assert key not in text, (clause_id, key)
        assert f"{key}:" not in text and f"{key}：" not in text, (clause_id, key)


def test_pay02_sentence():
    text = format_evidence("PAY-02", {"traded_at": "2026-10-12 19:42:10", "reason": "非工作时间", "is_workday": True,
                                      "calendar_known": True, "working_hours": "09:00:00-18:00:00",
                                      "amount_yuan": "468.00", "account": "周杰-总经办", "counterparty": "湘味轩"})
    assert text.startswith("付款时间 2026-10-12 19:42，超出工作时间 09:00–18:00；金额（元） 468.00")


def test_unknown_key_shows_its_value_not_its_name():
    text = format_evidence("PAY-02", {"brand_new_field": "值"})
    assert text == f"{UNLABELLED} 值" and "brand_new_field" not in text


def test_report_html_has_no_evidence_keys(tmp_path):
    rows = [{"clause_id": cid, "partition_date": DAY, "subject_id": f["subject_id"], "employee_id": f["employee_id"],
             "group_id": f["group_id"], "summary": f["summary"], "evidence": json.dumps(f["evidence"], ensure_ascii=False)}
            for cid, f in SAMPLES.items()]
    wh = Warehouse(database_url=f"sqlite:///{tmp_path / 'f.db'}")
    for domain in sorted({f["domain"] for f in SAMPLES.values()}):
        part = pl.DataFrame([r for r in rows if SAMPLES[r["clause_id"]]["domain"] == domain], schema=FINDING_SCHEMA)
        findings_store.replace_partition(wh, domain, DAY, part, {cid: "medium" for cid in SAMPLES}, "2026.1", "run-1")
    html = render_html(collect_report(wh, DAY))
    assert "付款时间 " in html and "群昵称「" in html
    leaked = sorted(k for f in SAMPLES.values() for k in _keys(f["evidence"])
                    if re.search(rf"\b{k}\s*[:：]", html) or ("_" in k and k in html))
    assert leaked == []
