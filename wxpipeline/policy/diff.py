"""What differs between two policy versions, clause by clause and parameter by parameter."""

from __future__ import annotations

from wxpipeline.policy import PolicyVersion


def effective_parameters(pv: PolicyVersion) -> dict[str, dict]:
    """Clause id -> {enabled, severity, params...} as the loader validated them."""
    out = {}
    for cid in sorted(pv.clauses):
        cfg = pv.clauses[cid]
        params = pv.parsed_params.get(cid)
        out[cid] = {
            "enabled": cfg.enabled,
            "severity": cfg.severity,
            **({k: str(v) for k, v in params.model_dump().items()} if params is not None else cfg.params),
        }
    return out


def diff_versions(a: PolicyVersion, b: PolicyVersion) -> list[dict]:
    """Rows {scope, key, old, new} for every setting that differs from a to b."""
    rows = []
    pa, pb = effective_parameters(a), effective_parameters(b)
    for cid in sorted(set(pa) | set(pb)):
        ca, cb = pa.get(cid, {}), pb.get(cid, {})
        for key in sorted(set(ca) | set(cb)):
            if ca.get(key) != cb.get(key):
                rows.append({"scope": cid, "key": key, "old": ca.get(key), "new": cb.get(key)})
    for key in ("extra_workdays", "extra_holidays"):
        old = sorted(map(str, getattr(a.calendar, key)))
        new = sorted(map(str, getattr(b.calendar, key)))
        if old != new:
            rows.append({"scope": "calendar", "key": key, "old": ", ".join(old), "new": ", ".join(new)})
    for category in sorted(set(a.word_lists) | set(b.word_lists)):
        ta = _terms(a, category)
        tb = _terms(b, category)
        if ta != tb:
            added, removed = sorted(tb - ta), sorted(ta - tb)
            rows.append({
                "scope": "word_lists", "key": category,
                "old": f"{len(ta)} terms" + (f"; removed: {', '.join(removed[:10])}" if removed else ""),
                "new": f"{len(tb)} terms" + (f"; added: {', '.join(added[:10])}" if added else ""),
            })
    return rows


def _terms(pv: PolicyVersion, category: str) -> set[str]:
    if category not in pv.word_lists:
        return set()
    text = pv.word_list_path(category).read_text("utf-8")
    return {ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")}
