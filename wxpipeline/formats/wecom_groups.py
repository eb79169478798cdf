"""Group snapshots `wecom_groups/*.json`: who was in which group, with which nickname, at a time.

Accepted documents (all decoded by one polars `json_decode` against the union of their shapes):

* the DESIGN.md snapshot `{"snapshot_time": <unix s>, "group_chat_list": [...]}` whose items are
  客户群 `groupchat/get` `group_chat` objects (`chat_id, name, owner, create_time, notice,
  member_list[{userid, type, join_time, join_scene, invitor{userid}, group_nickname, name}],
  admin_list[{userid}]`), whole `groupchat/get` responses (`{"errcode":0, "group_chat":{...}}`),
  or 会话存档 internal-group `groupchat/get` responses (`roomname, creator, room_create_time,
  members[{memberid, jointime}]`, no nicknames; the collector adds `roomid`);
* a bare `groupchat/get` response of either API, as the vendor returns it. It has no time, so
  `snapshot_time` is the file's mtime (the moment the collector saved it), and an internal-group
  response without `roomid` is taken to be named after its room (`wecom_groups/<roomid>.json`).

Two staged tables come from one file: one row per group and one row per (group, member); the
file is decoded once per process for both. A cold exports read holds dozens of small snapshots
(the demo: 58 of 1-4 KB): the read announces them (`expect`) and the first one missing from the
parse cache is parsed together with the others (`parse_many`: ~3 ms a file instead of ~13 ms),
each file's result the same as alone (`_tables`). `join_scene` keeps the vendor's groupchat/get scale
(1 direct invite, 2 invite link, 3 QR code); `join_method` is the scale shared with the events
(`invite`, `qrcode`). Times are UTC unix seconds, staged as Asia/Shanghai.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from .common import ExportFormatError, ParseResult, Reject
from .csvtools import read_text
from .encoding import DAMAGED
from .jsontools import as_int, epoch, nonempty
from .timestamps import epoch_value, implausible_reason, to_datetime
from .schemas import SCHEMAS

S = pl.String
_MEMBER = pl.Struct({
    "userid": S, "type": S, "join_time": S, "join_scene": S, "invitor": pl.Struct({"userid": S}),
    "group_nickname": S, "name": S, "memberid": S, "jointime": S,
})
_GROUP_FIELDS = {
    "chat_id": S, "name": S, "owner": S, "create_time": S, "notice": S, "member_list": pl.List(_MEMBER),
    "admin_list": pl.List(pl.Struct({"userid": S})),
    "roomid": S, "roomname": S, "creator": S, "room_create_time": S, "members": pl.List(_MEMBER),
}
# `status` only to recognise a groupchat/list page (ids and status, no group details)
_ITEM_FIELDS = {**_GROUP_FIELDS, "group_chat": pl.Struct(_GROUP_FIELDS), "errcode": S, "errmsg": S, "status": S}
ITEM = pl.Struct(_ITEM_FIELDS)
DOCUMENT = pl.Struct({"snapshot_time": S, "group_chat_list": pl.List(ITEM), "next_cursor": S, **_ITEM_FIELDS})

GROUPS_SCHEMA = pl.Schema(SCHEMAS["wecom_groups"])  # formats/schemas.py
MEMBERS_SCHEMA = pl.Schema(SCHEMAS["wecom_group_members"])
# groupchat/get join_scene -> the scale shared with change_external_chat events
JOIN_METHOD = {1: "invite", 2: "invite", 3: "qrcode"}


def _decode(path: Path, text: str) -> tuple[dict | None, pl.DataFrame, list[Reject]]:
    """(document fields, one row per group item as struct `_g`, rejects)."""
    if not text.strip():
        raise ExportFormatError(path, "empty JSON file: expected a group snapshot or a groupchat/get response")
    try:
        doc = pl.Series([text]).str.json_decode(DOCUMENT).struct.unnest()
    except pl.exceptions.PolarsError:
        return _decode_item_by_item(path, text)
    row = doc.row(0, named=True)
    _refuse_list_page(path, row)
    if row["group_chat_list"] is not None:
        items = doc.select(pl.col("group_chat_list").alias("_g")).explode("_g").filter(pl.col("_g").is_not_null())
    else:  # a bare response is its own single item
        items = doc.select(pl.struct(list(_ITEM_FIELDS)).alias("_g"))
    return row, items.with_row_index("_n"), []


def _decode_item_by_item(path: Path, text: str) -> tuple[dict | None, pl.DataFrame, list[Reject]]:
    """Rare path: the document does not fit the shapes. Invalid JSON rejects the file (with its
    line); otherwise each group is decoded alone so that one odd group rejects only itself."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportFormatError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(data, dict):
        raise ExportFormatError(path, "expected a JSON object (a snapshot or a groupchat/get response)", 1)
    groups = data.get("group_chat_list")
    if isinstance(groups, list):
        _refuse_list_page(path, {**data, "group_chat_list": [g if isinstance(g, dict) else {} for g in groups]})
    if not isinstance(groups, list):
        raise ExportFormatError(path, "the groupchat/get response does not have the documented fields", 1)
    good, rejects = [], []
    for n, g in enumerate(groups):
        try:
            good.append(pl.Series([json.dumps(g, ensure_ascii=False)]).str.json_decode(ITEM).alias("_g")
                        .to_frame().with_columns(pl.lit(n, pl.UInt32).alias("_n")))
        except pl.exceptions.PolarsError as exc:
            gid = g.get("chat_id") or g.get("roomid") if isinstance(g, dict) else None
            msg = str(exc).strip().splitlines()[0].removeprefix("error deserializing JSON: ")
            rejects.append(Reject(str(path), _line_of(text, gid), f"group_chat_list[{n}]: {msg}",
                                  json.dumps(g, ensure_ascii=False)[:2000]))
    doc = {"snapshot_time": None if data.get("snapshot_time") is None else str(data["snapshot_time"])}
    items = pl.concat(good).select("_n", "_g") if good else pl.DataFrame(schema={"_n": pl.UInt32, "_g": ITEM})
    return doc, items, rejects


def _refuse_list_page(path: Path, doc: dict) -> None:
    """A `groupchat/list` response (chat ids and status only) has none of the group details a
    snapshot stages: staging it would invent groups without owner or members."""
    items = doc.get("group_chat_list") or []
    detail = ("name", "owner", "member_list", "create_time", "group_chat", "roomname", "members")
    listing = bool(items) and all(
        isinstance(g, dict) and g.get("status") is not None and all(g.get(k) is None for k in detail) for g in items)
    if doc.get("snapshot_time") is None and (doc.get("next_cursor") is not None or listing):
        raise ExportFormatError(path, "a groupchat/list page (chat ids and status only), not a group snapshot: "
                                      "save groupchat/get responses in wecom_groups/", 1)


def _line_of(text: str, group_id: str | None) -> int:
    if group_id:
        m = re.search(r'"(?:chat_id|roomid)"\s*:\s*"' + re.escape(group_id) + '"', text)
        if m:
            return text.count("\n", 0, m.start()) + 1
    return 1


def _group_lines(text: str) -> pl.DataFrame:
    """Line of each group id in the file, found by one regex pass, for `source_line`."""
    newlines = [m.start() for m in re.finditer("\n", text)]
    ids, lines = [], []
    for m in re.finditer(r'"(?:chat_id|roomid)"\s*:\s*"([^"]*)"', text):
        ids.append(m.group(1))
        lines.append(bisect_right(newlines, m.start()) + 1)
    return pl.DataFrame({"group_id": ids, "source_line": lines}, schema={"group_id": S, "source_line": pl.Int64}
                        ).unique("group_id", keep="first")


@dataclass
class _Snapshot:
    """One file read and decoded, before its groups and members are typed (`_tables`)."""

    path: Path
    text: str
    encoding: str
    items: pl.DataFrame  # `_n`, `_g`
    rejects: list[Reject]
    meta: dict
    snap_s: int


def _read(path: Path, mtime_ns: int) -> _Snapshot:
    decoded = read_text(path, "JSON")
    text = decoded.json_text  # undecodable bytes as U+FFFD: the groups holding them are refused below
    doc, items, rejects = _decode(path, text)
    snap_text = (doc or {}).get("snapshot_time")
    meta = {"snapshot_time_from": "document" if snap_text else "file mtime", "groups": items.height,
            "encoding": decoded.encoding}
    if snap_text:
        snap_at, meta["snapshot_time_unit"] = epoch_value(snap_text)
        if snap_at is None:
            raise ExportFormatError(path, f"snapshot_time: {snap_text!r} is not a plausible unix time "
                                          "(seconds or milliseconds, 2000..2100)", 1)
        snap_s = int(snap_at.timestamp())
    else:
        snap_s = mtime_ns // 1_000_000_000
    return _Snapshot(path, text, decoded.encoding, items, rejects, meta, snap_s)


@lru_cache(maxsize=2)
def _parse(path_str: str, mtime_ns: int, size: int) -> tuple[pl.DataFrame, pl.DataFrame, tuple[Reject, ...], dict]:
    return _tables([_read(Path(path_str), mtime_ns)])[0]


def _tables(snaps: list[_Snapshot]) -> list[tuple[pl.DataFrame, pl.DataFrame, tuple[Reject, ...], dict]]:
    """(groups, members, rejects, meta) of each snapshot, typed in one pass over all of them:
    what is the file's own (its name, snapshot time, encoding, lines) is a column `_f` tells
    apart, so a file's result is the same read alone or with others (`parse_many`)."""
    per_file = pl.DataFrame({
        "_f": pl.Series(range(len(snaps)), dtype=pl.UInt32),
        "_file": [str(s.path) for s in snaps],
        "_stem": [s.path.stem for s in snaps],
        "_snap_s": pl.Series([s.snap_s for s in snaps], dtype=pl.Int64),
        "_encoding": [s.encoding for s in snaps],
        "_damaged": [DAMAGED in s.text for s in snaps],
    })
    items = pl.concat([s.items.select("_n", pl.col("_g").cast(ITEM)).with_columns(pl.lit(i, pl.UInt32).alias("_f"))
                       for i, s in enumerate(snaps)]).join(per_file, on="_f", how="left", maintain_order="left")
    lines = pl.concat([_group_lines(s.text).with_columns(pl.lit(i, pl.UInt32).alias("_f")) for i, s in enumerate(snaps)])

    g = pl.col("_g").struct
    gc = g.field("group_chat").struct

    def pick(field: str, *fallbacks: str) -> pl.Expr:
        return pl.coalesce(nonempty(gc.field(field)), nonempty(g.field(field)), *(nonempty(g.field(f)) for f in fallbacks))

    msgaudit = gc.field("chat_id").is_null() & g.field("chat_id").is_null() & g.field("roomname").is_not_null()
    groups = items.with_columns(
        pl.coalesce(pick("chat_id", "roomid"), pl.when(msgaudit).then(pl.col("_stem"))).alias("group_id"),
        pick("name", "roomname").alias("group_name"),
        pick("owner", "creator").alias("owner"),
        pick("create_time", "room_create_time").alias("_create"),
        pick("notice").alias("notice"),
        pl.coalesce(gc.field("member_list"), g.field("member_list"), g.field("members")).alias("_members"),
        pl.coalesce(gc.field("admin_list"), g.field("admin_list")).alias("_admins"),
        pl.when(msgaudit).then(pl.lit("msgaudit")).otherwise(pl.lit("externalcontact")).alias("source_format"),
        nonempty(g.field("errcode")).alias("_errcode"),
        g.field("errmsg").alias("_errmsg"),
        epoch(pl.col("_snap_s"), "s").alias("snapshot_time"),
    ).join(lines, on=["_f", "group_id"], how="left", maintain_order="left").with_columns(
        pl.col("source_line").fill_null(1))
    group_reason = (
        pl.when(pl.col("_errcode").is_not_null() & (pl.col("_errcode") != "0"))
        .then(pl.format("group_chat_list[{}]: groupchat/get error {} {}", "_n", "_errcode", "_errmsg"))
        .when(pl.col("group_id").is_null()).then(pl.format("group_chat_list[{}]: chat_id missing", "_n"))
        .when(pl.col("group_id").str.contains("\x00", literal=True))
        .then(pl.format("group_chat_list[{}]: chat_id contains a NUL byte", "_n"))
        # only a file holding undecodable bytes is searched group by group (a JSON encoding of
        # every group with its members: ~5% of a demo snapshot's parse CPU)
        .when(pl.col("_damaged") & pl.col("_g").struct.json_encode().str.contains(DAMAGED, literal=True)
              if any(DAMAGED in s.text for s in snaps) else pl.lit(False))
        .then(pl.format("group {}: holds bytes not decodable as {}", "group_id", "_encoding"))
        # a group without its member list would stage as a group of 0 members
        .when(pl.col("_members").is_null())
        .then(pl.format("group {}: member_list missing or not a list", "group_id"))
        .when(implausible_reason("create_time", pl.col("_create"), as_int(pl.col("_create"))).is_not_null())
        .then(pl.format("group {}: {}", "group_id",
                        implausible_reason("create_time", pl.col("_create"), as_int(pl.col("_create")))))
    )
    groups = groups.with_columns(group_reason.alias("_reason"))
    group_rejects = _rejects(groups, pl.col("_g").struct.json_encode())
    groups = groups.filter(pl.col("_reason").is_null())

    members = (
        groups.select("_f", "_file", "snapshot_time", "group_id", "group_name", "owner", "source_format",
                      "source_line", pl.col("_members").alias("_m"))
        .explode("_m")
        .filter(pl.col("_m").is_not_null())
        .with_columns(pl.int_range(pl.len()).over("_f", "group_id").alias("_k"))
    )
    m = pl.col("_m").struct
    join_text = pl.coalesce(nonempty(m.field("join_time")), nonempty(m.field("jointime")))
    members = members.with_columns(
        pl.coalesce(nonempty(m.field("userid")), nonempty(m.field("memberid"))).alias("userid"),
        as_int(m.field("type")).alias("member_type"),
        join_text.alias("_join"),
        as_int(m.field("join_scene")).alias("join_scene"),
        nonempty(m.field("invitor").struct.field("userid")).alias("invitor"),
        nonempty(m.field("group_nickname")).alias("group_nickname"),
        nonempty(m.field("name")).alias("member_name"),
    )
    member_reason = (
        pl.when(pl.col("userid").is_null()).then(pl.format("group {} member_list[{}]: userid missing", "group_id", "_k"))
        .when(pl.col("userid").str.contains("\x00", literal=True))
        .then(pl.format("group {} member_list[{}]: userid contains a NUL byte", "group_id", "_k"))
        .when(implausible_reason("join_time", pl.col("_join"), as_int(pl.col("_join"))).is_not_null())
        .then(pl.format("group {} member {}: {}", "group_id", "userid",
                        implausible_reason("join_time", pl.col("_join"), as_int(pl.col("_join")))))
    )
    members = members.with_columns(member_reason.alias("_reason"))
    member_rejects = _rejects(members, pl.col("_m").struct.json_encode())
    members = members.filter(pl.col("_reason").is_null()).select(
        "_f", "snapshot_time", "group_id", "group_name", "owner", "userid", "member_type",
        to_datetime(as_int(pl.col("_join"))).alias("join_time"),
        "join_scene",
        pl.col("join_scene").replace_strict(JOIN_METHOD, default=None, return_dtype=S).alias("join_method"),
        "invitor", "group_nickname", "member_name", "source_format",
        pl.col("_file").alias("source_file"), "source_line",
    )
    groups = groups.select(
        "_f", "snapshot_time", "group_id", "group_name", "owner",
        to_datetime(as_int(pl.col("_create"))).alias("create_time"),
        "notice",
        pl.col("_members").list.len().fill_null(0).cast(pl.Int64).alias("member_count"),
        pl.col("_admins").list.eval(pl.element().struct.field("userid")).fill_null([]).alias("admins"),
        "source_format", pl.col("_file").alias("source_file"), "source_line",
    )
    group_parts = _by_file(groups, len(snaps), GROUPS_SCHEMA)
    member_parts = _by_file(members, len(snaps), MEMBERS_SCHEMA)
    out = []
    for i, snap in enumerate(snaps):
        rejects = snap.rejects + group_rejects.get(i, []) + member_rejects.get(i, [])
        rejects.sort(key=lambda r: r.line)
        out.append((group_parts[i], member_parts[i], tuple(rejects), snap.meta))
    return out


def _by_file(frame: pl.DataFrame, files: int, schema: pl.Schema) -> list[pl.DataFrame]:
    """The rows of each file (`_f`), in order, with the staged table's schema."""
    parts = frame.partition_by("_f", maintain_order=True, include_key=False, as_dict=True)
    empty = frame.head(0).drop("_f")
    return [parts.get((i,), empty).match_to_schema(schema) for i in range(files)]


def _rejects(frame: pl.DataFrame, raw: pl.Expr) -> dict[int, list[Reject]]:
    """Each file's (`_f`) rejects, in frame order."""
    bad = frame.filter(pl.col("_reason").is_not_null()).select("_f", "_file", "source_line", "_reason",
                                                                raw.alias("_raw"))
    out: dict[int, list[Reject]] = {}
    for f, file, line, reason, r in bad.iter_rows():
        out.setdefault(f, []).append(Reject(file, int(line), reason, r or ""))
    return out


# results of `parse_many`, by (path, mtime, size), until both tables of the file were taken
_PARSED: dict[tuple[str, int, int], tuple] = {}
_TAKEN: dict[tuple[str, int, int], set[str]] = {}
# files the exports read will parse (`expect`): the first of them not in the parse cache is
# parsed together with the others, up to BATCH_BYTES of files at once
_EXPECTED: dict[str, int] = {}
BATCH_BYTES = 8 << 20


def expect(paths: list[Path | str]) -> None:
    """The exports read announces the snapshot files it is about to parse (those missing from the
    parse cache, `arrival.expect`), replacing its previous announcement: the first one it parses
    is parsed together with the others (`parse_many`)."""
    _EXPECTED.clear()
    for path in paths:
        _EXPECTED.setdefault(str(path), len(_EXPECTED))


def _batch_with(path: str) -> None:
    """Parse `path` together with the announced files not parsed yet (announced order)."""
    batch, size = [path], 0
    for other in sorted(_EXPECTED, key=_EXPECTED.__getitem__):
        if other != path and size < BATCH_BYTES:
            try:
                size += Path(other).stat().st_size
            except OSError:
                continue
            batch.append(other)
    for p in batch:
        _EXPECTED.pop(p, None)
    _PARSED.clear()  # an earlier batch's results never asked for: parsed again if ever needed
    _TAKEN.clear()
    if len(batch) > 1:
        parse_many(batch)


def _cached(path: Path | str, table: str = ""):
    st = Path(path).stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _PARSED and key[0] in _EXPECTED:
        _batch_with(key[0])
    if key in _PARSED:
        result = _PARSED[key]
        taken = _TAKEN.setdefault(key, set())
        taken.add(table)
        if len(taken) == 2:
            del _PARSED[key], _TAKEN[key]
        return result
    return _parse(*key)


def parse_wecom_groups(path: Path | str) -> ParseResult:
    """One row per group per snapshot: snapshot_time, group_id, group_name, owner (msgaudit:
    creator), create_time, notice, member_count, admins List[String], source_format
    (`externalcontact` | `msgaudit`), source_file, source_line (line of the group's id)."""
    groups, _, rejects, meta = _cached(path, "groups")
    return ParseResult(frame=groups, rejects=list(rejects), meta=dict(meta))


def parse_wecom_group_members(path: Path | str) -> ParseResult:
    """One row per (snapshot, group, member): snapshot_time, group_id, group_name, owner, userid,
    member_type (1 internal, 2 external, null unknown), join_time, join_scene (1/2/3 as in
    groupchat/get), join_method (invite|qrcode), invitor, group_nickname (null when unset or, for
    msgaudit groups, unknown), member_name, source_format, source_file, source_line."""
    _, members, rejects, meta = _cached(path, "members")
    return ParseResult(frame=members, rejects=list(rejects), meta=dict(meta))


def parse_many(paths: list[Path | str]) -> None:
    """Parse these snapshot files together (`_tables`: one pass over all their groups, instead
    of ~25 small polars steps per file, which were most of a demo snapshot's ~13 ms), keeping
    each file's result for its own `parse_wecom_groups` / `parse_wecom_group_members` call. A
    file that fails to read or decode is left out: its own call parses it and raises as before."""
    snaps, keys = [], []
    for path in paths:
        try:
            st = Path(path).stat()
            snaps.append(_read(Path(path), st.st_mtime_ns))
            keys.append((str(path), st.st_mtime_ns, st.st_size))
        except Exception:  # noqa: BLE001 - reported by the file's own parse
            continue
    if not snaps:
        return
    for key, result in zip(keys, _tables(snaps)):
        _PARSED[key] = result
