"""Bounded, seeded fuzzing of every export parser (issue 12).

Inputs: the real vendor samples in ../shared/real-exports/ (when present) and a 3-day demo
exports folder (every kind). Mutations: byte flips, truncation, GBK re-encoding, line
duplication, NUL insertion, and a file put in the wrong kind's folder. For every mutant:

* no uncaught exception: a parser returns a result or refuses the file with `ExportFormatError`
  (which the exports folder turns into a quarantine row naming the file);
* records add up: for line formats, parsed rows + quarantined lines = the mutant's records; for
  JSON documents, parsed + quarantined = the document's groups / articles;
* unmutated lines are kept: a record line parsed in the original and present unchanged in the
  mutant is parsed in the mutant too (unless the whole file was refused);
* GBK re-encoding changes nothing but the recorded encoding.

`FUZZ_FIGURES` collects mutations tried, crashes, refusals and rows lost for the report.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.demo import write_demo
from wxpipeline.formats.common import ExportFormatError
from wxpipeline.formats.registry import EXPORT_KINDS

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-exports"
SEED = 20261118
MUTANTS_PER_FILE = 10
MAX_LINES = 150  # archive files are trimmed: the parser is the same for line 150 and line 1M

LINE_KINDS = {"ledger", "roster", "group_registry", "pay_accounts", "pay_approvals", "mp_reviews",
              "wecom_archive", "wecom_group_events", "wechat_pay"}
FUZZ_FIGURES: dict[str, int] = {"mutations": 0, "crashes": 0, "refused": 0, "rows_lost": 0}


def _kind_for(folder: str, suffix: str) -> str | None:
    for kind in EXPORT_KINDS.values():
        if kind.name == "wecom_group_members":
            continue
        if any(g.split("/")[0] == folder and g.endswith(suffix) for g in kind.globs):
            return kind.name
    return None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of every seed file."""
    root = tmp_path_factory.mktemp("demo")
    write_demo(root, end=date(2026, 10, 17), days=3, seed=7)
    seeds = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and (kind := _kind_for(p.parent.name, p.suffix)):
            data = p.read_bytes()
            if kind == "wecom_archive":
                data = b"\n".join(data.split(b"\n")[:MAX_LINES]) + b"\n"
            seeds.append((kind, p.name, data))
    real = {"wechat_pay": "wechat_pay", "mp_publish": "mp_published", "wecom_groupchat": None, "wecom_msgaudit": None}
    if REAL.is_dir():
        for p in sorted(REAL.rglob("*")):
            if not p.is_file() or p.name == "SOURCES.txt":
                continue
            kind = real.get(p.parent.name)
            if p.parent.name == "wecom_groupchat":
                kind = "wecom_group_events" if p.suffix == ".xml" else "wecom_groups"
            if p.parent.name == "wecom_msgaudit":
                kind = "wecom_archive" if p.suffix == ".jsonl" else "wecom_groups"
            if kind:
                seeds.append((kind, p.name, p.read_bytes()))
    return seeds


# ---- mutations ---------------------------------------------------------------------------------


def _flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(b))
        b[i] = rng.randrange(256)
    return bytes(b)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _gbk(data: bytes, rng: random.Random) -> bytes | None:
    try:
        return data.decode("utf-8-sig").encode("gb18030")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None


def _dup_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])


def _nul(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + b"\x00" + data[i:]


MUTATIONS = {"flip": _flip, "truncate": _truncate, "gbk": _gbk, "dup_line": _dup_line, "nul": _nul}


# ---- invariants ----------------------------------------------------------------------------------


def _parse(kind: str, path: Path):
    """(result, None) or (None, refusal message); any other exception propagates (a crash)."""
    try:
        return EXPORT_KINDS[kind].parser(path), None
    except ExportFormatError as e:
        assert str(path) in str(e), f"a refusal must name the file: {e}"
        return None, str(e)


def _lines(data: bytes) -> list[str]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc).split("\n")
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace").split("\n")


def _line_records(kind: str, result, lines: list[str]) -> int:
    """Records of a line-format file as the file itself says: non-blank lines after the header."""
    header = result.meta.get("header_line", 0)
    blank = set(",\t\r ")
    return sum(1 for n, text in enumerate(lines, 1) if n > header and set(text) - blank)


def _doc_records(kind: str, data: bytes) -> int | None:
    """Groups (wecom_groups) or articles (mp_published) a JSON document holds; None if not JSON."""
    try:
        doc = json.loads(data.decode("utf-8-sig") if not data.startswith(b"\xff\xfe") else data.decode("utf-16"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    docs = doc if isinstance(doc, list) else [doc]
    n = 0
    for d in docs:
        if not isinstance(d, dict):
            return None
        if kind == "wecom_groups":
            n += len(d["group_chat_list"]) if isinstance(d.get("group_chat_list"), list) else 1
        else:
            items = d.get("item") if isinstance(d.get("item"), list) else [d]
            for it in items:
                content = it.get("content") if isinstance(it, dict) and isinstance(it.get("content"), dict) else it
                news = content.get("news_item") if isinstance(content, dict) else None
                n += len(news) if isinstance(news, list) and news else 1
    return n


def _check_mutant(kind: str, path: Path, original, orig_lines: list[str]) -> None:
    FUZZ_FIGURES["mutations"] += 1
    result, refused = _parse(kind, path)
    if refused:
        FUZZ_FIGURES["refused"] += 1
        return
    data = path.read_bytes()
    file_rejects = [r for r in result.rejects if r.line == 0]
    assert not file_rejects
    if kind in LINE_KINDS and path.suffix != ".xml" and path.suffix != ".xlsx":
        lines = _lines(data)
        records = _line_records(kind, result, lines)
        got = result.frame.height + len({r.line for r in result.rejects})
        if got != records:
            FUZZ_FIGURES["rows_lost"] += abs(records - got)
        assert got == records, f"{kind} {path.name}: {result.frame.height} parsed + rejects != {records} records"
        # every original good line still present unchanged is still parsed
        good_orig = {orig_lines[n - 1] for n in original.frame["source_line"].to_list()} if original else set()
        present = set(lines)
        good_now = {lines[n - 1] for n in result.frame["source_line"].to_list()}
        lost = {t for t in good_orig & present if t not in good_now}
        if lost:
            FUZZ_FIGURES["rows_lost"] += len(lost)
        assert not lost, f"{kind} {path.name}: unmutated line(s) dropped: {sorted(lost)[:2]}"
    elif kind in ("wecom_groups", "mp_published"):
        expected = _doc_records(kind, data)
        if expected is None:
            return
        if kind == "wecom_groups":
            got = result.frame.height + sum(1 for r in result.rejects if "member" not in r.reason.split(":")[0])
        else:
            got = result.frame.height + len(result.rejects)
        assert got == expected, f"{kind} {path.name}: {got} parsed+quarantined != {expected} records"


def test_fuzz_every_parser(corpus, tmp_path):
    rng = random.Random(SEED)
    kinds = sorted({k for k, _, _ in corpus})
    for n, (kind, name, data) in enumerate(corpus):
        src = tmp_path / f"orig{n}" / name
        src.parent.mkdir()
        src.write_bytes(data)
        original, refused = _parse(kind, src)
        orig_lines = _lines(data)
        for m in range(MUTANTS_PER_FILE):
            how = list(MUTATIONS)[m % len(MUTATIONS)] if m < len(MUTATIONS) else rng.choice(list(MUTATIONS))
            mutated = MUTATIONS[how](data, rng) if data else b""
            if mutated is None:
                FUZZ_FIGURES["skipped"] = FUZZ_FIGURES.get("skipped", 0) + 1
                continue
            path = tmp_path / f"m{n}_{m}" / name
            path.parent.mkdir()
            path.write_bytes(mutated)
            try:
                _check_mutant(kind, path, original if not refused else None, orig_lines)
            except AssertionError as e:
                raise AssertionError(f"{how}: {e}") from None
            except Exception as e:  # a crash: the exports folder would still refuse it, but name it here
                FUZZ_FIGURES["crashes"] += 1
                pytest.fail(f"{how} of {kind} {name}: uncaught {type(e).__name__}: {e}")
            if how == "gbk" and original is not None and kind in LINE_KINDS and not name.endswith(".xml"):
                again, _ = _parse(kind, path)
                cols = [c for c in original.frame.columns if c != "source_file"]
                assert again.frame.select(cols).equals(original.frame.select(cols)), f"gbk {name} changed records"
        # the file in every other kind's folder: refused or quarantined, never a crash
        other = rng.choice([k for k in kinds if k != kind])
        path = tmp_path / f"swap{n}" / name
        path.parent.mkdir()
        path.write_bytes(data)
        FUZZ_FIGURES["mutations"] += 1
        try:
            _parse(other, path)
        except Exception as e:
            FUZZ_FIGURES["crashes"] += 1
            pytest.fail(f"{name} read as {other}: uncaught {type(e).__name__}: {e}")
    print(f"\nfuzz: {FUZZ_FIGURES}")
    assert FUZZ_FIGURES["mutations"] >= 300
    assert FUZZ_FIGURES["crashes"] == 0 and FUZZ_FIGURES["rows_lost"] == 0
