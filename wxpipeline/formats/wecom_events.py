"""客户群变更事件 `change_external_chat` (`wecom_group_events/*.jsonl`, also `*.xml`).

JSON lines carry the callback's XML element names: `CreateTime` (unix s), `ChatId`,
`ChangeType` (create|update|dismiss), `UpdateDetail` (add_member, del_member, change_owner,
change_name, change_notice), `JoinScene`, `QuitScene`, `MemChangeCnt`, `MemChangeList` (a list
of userids, or one comma-separated string), `LastMemVer`, `CurMemVer`.

The raw decrypted XML callbacks are accepted too, as `.xml` files holding one or more `<xml>`
documents or as JSONL lines starting with `<`: self-built-app form (`CreateTime`,
`Event`) and third-party form (`TimeStamp`, `InfoType`); `QuitScene` may be missing, values
may be CDATA, `MemChangeList` may be `<Item>` children or one comma-separated string. XML is
converted record by record in Python (callbacks are low-volume), then staged by the same
vectorised code as the JSON lines.

Scales: the callback's `JoinScene` is 0 (invited, directly or by link) or 3 (QR code), whereas
groupchat/get's `join_scene` is 1/2/3; `join_method` (invite|qrcode) is the shared scale.
`QuitScene` 0 = left by themselves, 1 = removed by owner/admin → `quit_method` self|removed.
Scenes are staged only on the events they describe (add_member / del_member).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl

from .common import ExportFormatError, ParseResult, Reject
from .csvtools import read_text
from .jsontools import as_int, decode_json, nonempty, read_lines
from .timestamps import implausible_reason, to_datetime, unit_counts
from .schemas import SCHEMAS

S = pl.String
_KEYS = ("CreateTime", "TimeStamp", "ChatId", "ChangeType", "UpdateDetail", "JoinScene", "QuitScene",
         "MemChangeCnt", "LastMemVer", "CurMemVer", "Event", "InfoType")
RECORD = pl.Struct({**{k: S for k in _KEYS}, "MemChangeList": pl.List(S)})
EVENT = "change_external_chat"
JOIN_METHOD = {0: "invite", 1: "invite", 2: "invite", 3: "qrcode"}
QUIT_METHOD = {0: "self", 1: "removed"}

SCHEMA = pl.Schema(SCHEMAS["wecom_group_events"])  # formats/schemas.py


def xml_record(element: ET.Element) -> dict:
    """One `<xml>` callback -> the JSON-lines record (element names as keys, text values)."""
    out: dict = {}
    for child in element:
        if child.tag == "MemChangeList":
            items = [(i.text or "").strip() for i in child if i.tag == "Item"]
            out["MemChangeList"] = items if items else (child.text or "").strip()
        else:
            out[child.tag] = (child.text or "").strip()
    return out


def _xml_lines(path: Path) -> tuple[pl.DataFrame, list[Reject]]:
    """An .xml file: every `<xml>` document, as a JSON line numbered by its opening tag's line."""
    decoded = read_text(path, "XML")
    if decoded.rejects:
        # a damaged byte inside one callback would make the whole wrapper ill-formed
        raise ExportFormatError(path, f"XML {decoded.rejects[0].reason}", decoded.rejects[0].line)
    text = decoded.text
    starts = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<xml\b", text)]
    body = re.sub(r"^<\?xml[^>]*\?>", "", text.strip())  # a declaration cannot sit inside the wrapper
    try:
        root = ET.fromstring(f"<callbacks>{body}</callbacks>")
    except ET.ParseError as exc:
        raise ExportFormatError(path, f"not well-formed XML: {exc}", exc.position[0]) from None
    docs = [e for e in root if e.tag == "xml"]
    if not docs:
        raise ExportFormatError(path, "no <xml> callback document in the file", 1)
    raws = [json.dumps(xml_record(e), ensure_ascii=False) for e in docs]
    return pl.DataFrame({"source_line": starts[: len(raws)], "raw": raws},
                        schema={"source_line": pl.Int64, "raw": S}), []


def _xml_in_jsonl(chunk: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Reject]]:
    """JSONL lines that hold a raw XML callback are converted to JSON records in place."""
    is_xml = pl.col("raw").str.strip_chars_start().str.starts_with("<")
    xml_rows = chunk.filter(is_xml)
    if xml_rows.height == 0:
        return chunk, []
    converted, rejects = [], []
    for line, raw in xml_rows.iter_rows():
        try:
            converted.append((line, json.dumps(xml_record(ET.fromstring(raw.strip())), ensure_ascii=False)))
        except ET.ParseError as exc:
            rejects.append(Reject(file, int(line), f"not well-formed XML callback: {exc}", raw))
    fixed = pl.DataFrame(converted, schema={"source_line": pl.Int64, "raw": S}, orient="row")
    return pl.concat([chunk.filter(~is_xml), fixed]).sort("source_line"), rejects


def _stage(decoded: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Reject]]:
    j = pl.col("_j").struct
    time_text = pl.coalesce(nonempty(j.field("CreateTime")), nonempty(j.field("TimeStamp")))
    detail = nonempty(j.field("UpdateDetail"))
    change = nonempty(j.field("ChangeType"))
    kind = pl.coalesce(nonempty(j.field("Event")), nonempty(j.field("InfoType")))
    typed = decoded.with_columns(
        time_text.alias("_t"),
        nonempty(j.field("ChatId")).alias("group_id"),
        change.alias("change_type"),
        # create/dismiss carry no detail; the natural key then holds an empty detail, not null
        pl.when(change == "update").then(detail).otherwise(detail.fill_null("")).alias("update_detail"),
        pl.when(detail == "add_member").then(as_int(j.field("JoinScene"))).alias("join_scene"),
        pl.when(detail == "del_member").then(as_int(j.field("QuitScene"))).alias("quit_scene"),
        # MemChangeList: a list, or one "a,b" string (decoded as a one-element list)
        j.field("MemChangeList").list.join(",").str.split(",")
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
        .fill_null([]).alias("members"),
        as_int(j.field("MemChangeCnt")).alias("member_change_count"),
        nonempty(j.field("LastMemVer")).alias("last_mem_ver"),
        nonempty(j.field("CurMemVer")).alias("cur_mem_ver"),
        kind.alias("_kind"),
    )
    reason = (
        pl.when(pl.col("_j").is_null()).then(pl.lit("not a JSON object"))
        .when(pl.col("_kind").is_not_null() & (pl.col("_kind") != EVENT))
        .then(pl.format("not a {} event: {}", pl.lit(EVENT), "_kind"))
        .when(pl.col("group_id").is_null()).then(pl.lit("ChatId missing"))
        .when(pl.col("group_id").str.contains("\x00", literal=True)).then(pl.lit("ChatId: contains a NUL byte"))
        .when(pl.col("_t").is_null()).then(pl.lit("CreateTime missing"))
        # seconds as documented, or ms as some decrypted callbacks carry: decided per value
        .when(implausible_reason("CreateTime", pl.col("_t"), as_int(pl.col("_t"))).is_not_null())
        .then(implausible_reason("CreateTime", pl.col("_t"), as_int(pl.col("_t"))))
        .when(pl.col("members").list.eval(pl.element().str.contains("\x00", literal=True)).list.any())
        .then(pl.lit("MemChangeList: a userid contains a NUL byte"))
        .when(pl.col("change_type").is_null()).then(pl.lit("ChangeType missing"))
        .when((pl.col("change_type") == "update") & pl.col("update_detail").is_null())
        .then(pl.lit("UpdateDetail missing on an update"))
    )
    checked = typed.with_columns(reason.alias("_reason"))
    bad = checked.filter(pl.col("_reason").is_not_null()).select("source_line", "_reason", "raw")
    rejects = [Reject(file, int(ln), r, raw) for ln, r, raw in bad.iter_rows()]
    frame = checked.filter(pl.col("_reason").is_null()).select(
        to_datetime(as_int(pl.col("_t"))).alias("event_time"),
        "group_id", "change_type", "update_detail", "join_scene",
        pl.col("join_scene").replace_strict(JOIN_METHOD, default=None, return_dtype=S).alias("join_method"),
        "quit_scene",
        pl.col("quit_scene").replace_strict(QUIT_METHOD, default=None, return_dtype=S).alias("quit_method"),
        "members", "member_change_count", "last_mem_ver", "cur_mem_ver",
        pl.lit(file).alias("source_file"), "source_line",
    )
    return frame, rejects


def parse_wecom_group_events(path: Path | str) -> ParseResult:
    """Parse one events file (.jsonl, or .xml callbacks).

    Columns: event_time Datetime(us, Asia/Shanghai), group_id (ChatId), change_type, update_detail
    ("" for create/dismiss), join_scene (callback scale 0/3, add_member only), join_method
    (invite|qrcode), quit_scene (0/1, del_member only), quit_method (self|removed), members
    List[String] (MemChangeList), member_change_count, last_mem_ver, cur_mem_ver, source_file,
    source_line.
    """
    path = Path(path)
    file = str(path)
    chunks = [_xml_lines(path)] if path.suffix.lower() == ".xml" else read_lines(path)
    frames, rejects, units = [], [], {}
    for chunk, bad in chunks:
        rejects += bad
        if path.suffix.lower() != ".xml":
            chunk, bad_xml = _xml_in_jsonl(chunk, file)
            rejects += bad_xml
        decoded, bad_json = decode_json(chunk, RECORD, file)
        staged, bad_values = _stage(decoded, file)
        rejects += bad_json + bad_values
        frames.append(staged)
        for unit, n in unit_counts(decoded.filter(pl.col("_j").is_not_null()).select(
                as_int(pl.col("_j").struct.field("CreateTime")).alias("t")), "t", "CreateTime"
                ).get("CreateTime_units", {}).items():
            units.setdefault("CreateTime_units", {}).setdefault(unit, 0)
            units["CreateTime_units"][unit] += n
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    rejects.sort(key=lambda r: r.line)
    meta = {"records": frame.height + len(rejects), **units}
    return ParseResult(frame=frame.match_to_schema(SCHEMA), rejects=rejects, meta=meta)
