"""公众号 (official account) article exports: `freepublish/batchget` pages in `mp_published/*.json`.

A page is `{"item": [{"article_id", "content": {"news_item": [...], "create_time",
"update_time"}, "update_time"}], "total_count", "item_count"}`. One item is one publication
(`article_id`); its `news_item` list holds its articles in order, `idx` 1..n as in the article
URL's `idx=` and in `freepublish/get`'s `article_detail`. The publish time is the item's
`update_time`, which some exporters put inside `content` only; `create_time` is the draft's.
A deleted article (`is_deleted: true`) stays, with its flag.

`parse_mp_json` reads every shape of the samples in shared/real-exports/mp_publish, so a wrong
file put in the folder is recognised instead of misread:

* `freepublish/batchget` items with `article_id`             -> record_type `published`
* `draft/batchget` items (`media_id`, no `article_id`)        -> `draft`
* a bare `{"news_item": [...]}` (`draft/get`, `freepublish/getarticle`): the response names
  no id; with `is_deleted` on its items it is a published article, else a draft
* `freepublish/get` status (`publish_id`, `article_detail`)   -> `publish_status` (no content)

`parse_mp_published`, the parser of the `mp_published` export kind, keeps the published
articles that have an id and a publish time and turns every other record into a Reject with the
reason, so a draft or a status response in the folder shows up in quarantine, never silently.

Files are JSON: a page object, a list of pages, or one page per line (JSON Lines). Values are
strings as the API sends them; a `\\/` escape left inside a URL by a double-encoding exporter
is undone.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl

from .common import ExportFormatError, ParseResult, Reject
from .csvtools import TIMESTAMP, read_text
from .encoding import DAMAGED
from .timestamps import PLAUSIBLE, epoch_value
from .schemas import SCHEMAS


ALL_SCHEMA = {
    "record_type": pl.String, "article_id": pl.String, "media_id": pl.String, "idx": pl.Int64,
    "title": pl.String, "author": pl.String, "digest": pl.String, "content": pl.String,
    "content_text": pl.String, "content_source_url": pl.String, "url": pl.String,
    "is_deleted": pl.Boolean, "created_at": TIMESTAMP, "published_at": TIMESTAMP,
    "source_file": pl.String, "source_line": pl.Int64,
}
# what the staged table holds (formats/schemas.py)
PUBLISHED_COLUMNS = list(SCHEMAS["mp_articles"])

_TEXT_FIELDS = ("title", "author", "digest", "content", "content_source_url", "url")


# ---- HTML -> text (vectorised) ------------------------------------------------------------------

_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&apos;": "'",
             "&ldquo;": "“", "&rdquo;": "”", "&lsquo;": "‘", "&rsquo;": "’", "&mdash;": "—",
             "&hellip;": "…", "&middot;": "·", "&emsp;": " ", "&ensp;": " ", "&amp;": "&"}


def html_to_text(expr: pl.Expr) -> pl.Expr:
    """Article HTML -> plain text: scripts/styles/comments dropped, block ends become newlines,
    other tags vanish (so `<b>赌</b>博` reads `赌博`), entities decoded."""
    s = (
        expr.str.replace_all(r"(?is)<(script|style)\b.*?</(script|style)\s*>", "")
        .str.replace_all(r"(?s)<!--.*?-->", "")
        .str.replace_all(r"(?i)<br\s*/?>|</(p|div|section|h[1-6]|li|tr|blockquote)\s*>", "\n")
        .str.replace_all(r"<[^>]*>", "")
        .str.replace_many(list(_ENTITIES), list(_ENTITIES.values()))
    )
    return s.str.replace_all(r"[ \t\u00a0]*\n[ \t\u00a0\n]*", "\n").str.strip_chars()


def content_text(html_content: pl.Series) -> pl.Series:
    """`html_to_text` over a column, plus numeric entities (`&#36172;`, `&#x8d4c;`), which are
    decoded in Python on the rare rows that carry one (an expression cannot build a character
    from a number)."""
    import html

    text = pl.select(html_to_text(pl.lit(html_content.cast(pl.String)))).to_series().alias("content_text")
    has = text.str.contains(r"&#[0-9xX]").fill_null(False)
    if not has.any():
        return text
    idx = has.arg_true()
    fixed = [html.unescape(v) for v in text.gather(idx).to_list()]
    return text.scatter(idx, pl.Series(fixed, dtype=pl.String))


# ---- JSON -----------------------------------------------------------------------------------------


def _documents(path: Path, text: str) -> list[tuple[int, object]]:
    """(line, document): one JSON value, or JSON Lines."""
    try:
        return [(1, json.loads(text))]
    except json.JSONDecodeError as whole:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append((n, json.loads(line)))
                except json.JSONDecodeError:
                    raise ExportFormatError(path, f"not JSON ({whole.msg} at line {whole.lineno})",
                                            whole.lineno) from None
        return docs


def _line_of(text: str, needle: str | None, fallback: int) -> int:
    if not needle:
        return fallback
    pos = text.find(needle)
    return text.count("\n", 0, pos) + 1 if pos >= 0 else fallback


def _ts(value: object, units: dict | None = None) -> datetime | None:
    """Unix time in seconds or milliseconds (decided per value, counted in `units`)."""
    if value in (None, ""):
        return None
    at, unit = epoch_value(value)
    if units is not None and unit:
        units[unit] = units.get(unit, 0) + 1
    return at


def _bad_time(item: dict, content: dict, key: str) -> str | None:
    """The reason when `key` is given on the item or its content but is not a plausible time."""
    for where, holder in (("item", item), ("content", content)):
        value = holder.get(key)
        if value not in (None, "") and epoch_value(value)[0] is None:
            return f"{key} ({where}): {value!r} is not a plausible time ({PLAUSIBLE})"
    return None


# `material/batchget_material` pages look like draft pages, but their content has no
# create_time and their news items no comment settings (draft/batchget has both); other
# material items (images, voice, video) carry a `name` and no content
def _is_material_page(items: list) -> bool:
    dicts = [it for it in items if isinstance(it, dict)]
    if not dicts or any(it.get("article_id") for it in dicts):
        return False
    for it in dicts:
        news = (it.get("content") or {}).get("news_item") if isinstance(it.get("content"), dict) else None
        if (isinstance(news, list) and "create_time" not in it["content"]
                and any(isinstance(n, dict) and "thumb_media_id" in n and "need_open_comment" not in n for n in news)):
            return True
        if "name" in it and "content" not in it and "media_id" in it:
            return True
    return False


def _str(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).replace("\\/", "/").strip() if not isinstance(value, str) else value.replace("\\/", "/")
    return s if s.strip() else None


def _deleted(value: object) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return str(value).strip().lower() in ("1", "true")


def _item_rows(item: dict, where: str, line: int, rejects: list[Reject], file: str, raw: str,
               units: dict | None = None) -> list[dict]:
    content = item.get("content") if isinstance(item.get("content"), dict) else item
    news = content.get("news_item")
    article_id, media_id = _str(item.get("article_id")), _str(item.get("media_id"))
    if not isinstance(news, list) or not news:
        if "article_detail" in item or "publish_status" in item:
            return [{"record_type": "publish_status", "article_id": article_id, "idx": d.get("idx"),
                     "url": _str(d.get("article_url")), "source_line": line}
                    for d in (item.get("article_detail") or {}).get("item") or [{}]]
        rejects.append(Reject(file, line, f"{where}: no content.news_item list", raw))
        return []
    # an item refused as a whole costs one quarantine row per article it holds (the records)
    refuse = None
    if raw and DAMAGED in raw:
        refuse = "holds bytes not decodable in the file's encoding"
    elif article_id and "\x00" in article_id:
        refuse = "article_id contains a NUL byte"
    else:
        refuse = _bad_time(item, content, "update_time") or _bad_time(item, content, "create_time")
    if refuse:
        rejects.extend(Reject(file, line, f"{where}.news_item[{i}]: {refuse}", raw) for i in range(len(news)))
        return []
    published = _ts(item.get("update_time"), units) or _ts(content.get("update_time"), units)
    created = _ts(content.get("create_time")) or _ts(item.get("create_time"))
    bare_published = article_id is None and media_id is None and any(
        isinstance(n, dict) and "is_deleted" in n for n in news)
    kind = "published" if article_id or bare_published else "draft"
    rows = []
    for i, n in enumerate(news, 1):
        if not isinstance(n, dict):
            rejects.append(Reject(file, line, f"{where}.news_item[{i - 1}]: not an object", raw))
            continue
        rows.append({
            "record_type": kind, "article_id": article_id, "media_id": media_id, "idx": i,
            **{f: _str(n.get(f)) for f in _TEXT_FIELDS},
            "is_deleted": _deleted(n.get("is_deleted")), "created_at": created, "published_at": published,
            "source_line": line,
        })
    return rows


def parse_mp_json(path: Path | str) -> ParseResult:
    """Every record of an official-account JSON export, published or not (see module doc)."""
    path = Path(path)
    file = str(path)
    decoded = read_text(path, "JSON")
    text = decoded.json_text  # undecodable bytes as U+FFFD: the items holding them are refused
    if not text.strip():
        raise ExportFormatError(path, "empty JSON file: expected freepublish/batchget pages")
    rows: list[dict] = []
    rejects: list[Reject] = []
    units: dict = {}
    pages = 0
    for line, doc in _documents(path, text):
        for page in doc if isinstance(doc, list) else [doc]:
            if not isinstance(page, dict):
                raise ExportFormatError(path, "expected a JSON object (a freepublish/batchget page)", line)
            if page.get("errcode") not in (None, 0, "0"):
                raise ExportFormatError(path, f"an API error response (errcode {page.get('errcode')}: "
                                              f"{page.get('errmsg', '')}), not an export", line)
            pages += 1
            if isinstance(page.get("item"), list) and _is_material_page(page["item"]):
                raise ExportFormatError(path, "a material/batchget_material page (permanent material), not "
                                              "freepublish/batchget publications", line)
            if isinstance(page.get("item"), list):
                items = [(f"item[{k}]", it) for k, it in enumerate(page["item"])]
            elif "news_item" in page or "article_detail" in page:
                items = [("response", page)]
            else:
                raise ExportFormatError(path, "no 'item' list (freepublish/batchget) and no 'news_item'", line)
            for where, it in items:
                if not isinstance(it, dict):
                    rejects.append(Reject(file, line, f"{where}: not an object", str(it)[:500]))
                    continue
                at = _line_of(text, _str(it.get("article_id")) or _str(it.get("media_id")), line)
                raw = json.dumps(it, ensure_ascii=False)[:2000]
                rows.extend(_item_rows(it, where, at, rejects, file, raw, units))
    frame = pl.DataFrame([{c: r.get(c) for c in ALL_SCHEMA} | {"source_file": file} for r in rows],
                         schema=ALL_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ALL_SCHEMA)
    frame = frame.with_columns(content_text(frame["content"]))
    meta = {"pages": pages, "records": frame.height, "encoding": decoded.encoding, "update_time_units": units}
    return ParseResult(frame=frame, rejects=rejects, meta=meta)


_NOT_PUBLISHED = {
    "draft": "a draft (draft/batchget or draft/get), not a publication: not judged",
    "publish_status": "a freepublish/get status record: no article content to judge",
}


def parse_mp_published(path: Path | str) -> ParseResult:
    """The published articles of a file; anything else becomes a Reject naming what it is."""
    result = parse_mp_json(path)
    f = result.frame
    reason = (
        pl.when(pl.col("record_type") != "published")
        .then(pl.col("record_type").replace_strict(_NOT_PUBLISHED, default="not a publication"))
        .when(pl.col("article_id").is_null())
        .then(pl.lit("published article without article_id (freepublish/getarticle response): "
                     "cannot be tied to its review record; export freepublish/batchget pages"))
        .when(pl.col("published_at").is_null())
        .then(pl.lit("no update_time (publish time) on the item or its content"))
    )
    checked = f.with_columns(reason.alias("_reason"))
    bad = checked.filter(pl.col("_reason").is_not_null())
    rejects = list(result.rejects) + [
        Reject(str(path), line, f"{rt} {aid or mid or '(no id)'} #{idx}: {why}", title or "")
        for rt, aid, mid, idx, line, why, title in bad.select(
            "record_type", "article_id", "media_id", "idx", "source_line", "_reason", "title").iter_rows()
    ]
    good = checked.filter(pl.col("_reason").is_null()).select(PUBLISHED_COLUMNS)
    meta = {**result.meta, "not_published": bad.height}
    return ParseResult(frame=good, rejects=rejects, meta=meta)
