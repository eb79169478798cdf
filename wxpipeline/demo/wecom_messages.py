"""Ordinary archive traffic for the WeCom demo: who talks where, and realistic bodies of every
common msgtype (in the vendor's shapes; see `formats/wecom_archive.py`)."""

from __future__ import annotations

import base64
import json
import random
from datetime import date, datetime, time, timedelta
from typing import Any

from . import is_workday
from . import wecom_text as T
from .wecom_model import WecomModel, at, office_time

# (msgtype, weight) of ordinary traffic
MSGTYPES = [
    ("text", 700), ("image", 80), ("emotion", 40), ("file", 30), ("link", 30), ("mixed", 20), ("voice", 20),
    ("revoke", 15), ("chatrecord", 10), ("docmsg", 10), ("video", 8), ("markdown", 6), ("news", 4),
    ("location", 5), ("card", 4), ("redpacket", 3), ("weapp", 3), ("calendar", 3), ("meeting", 3),
]


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _sdkfileid(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(96)).decode()


def _body(model: WecomModel, msgtype: str, ts: datetime, sender: str) -> tuple[str, dict[str, Any], str | None]:
    """(msgtype, body, body key if not the msgtype) of an ordinary message."""
    rng = model.rng
    media = {"md5sum": _hex(rng), "sdkfileid": _sdkfileid(rng)}
    if msgtype == "image":
        return msgtype, {**media, "filesize": rng.randint(20_000, 900_000)}, None
    if msgtype == "emotion":
        return msgtype, {"type": rng.choice([1, 2]), "width": 240, "height": 240,
                         "imagesize": rng.randint(5_000, 90_000), **media}, None
    if msgtype == "voice":
        return msgtype, {"voice_size": rng.randint(3_000, 60_000), "play_length": rng.randint(2, 50), **media}, None
    if msgtype == "video":
        return msgtype, {"filesize": rng.randint(500_000, 30_000_000), "play_length": rng.randint(5, 120), **media}, None
    if msgtype == "file":
        name = T.file_name(rng)
        return msgtype, {"filename": name, "fileext": name.rsplit(".", 1)[1],
                         "filesize": rng.randint(10_000, 5_000_000), **media}, None
    if msgtype == "link":
        title, desc, url = rng.choice(T.LINKS)
        return msgtype, {"title": title, "description": desc, "link_url": T.fill(rng, url),
                         "image_url": "https://wework.qpic.cn/wwpic/" + _hex(rng, 16) + "/0"}, None
    if msgtype == "mixed":
        items = [{"type": "text", "content": json.dumps({"content": T.chat_line(rng)}, ensure_ascii=False)},
                 {"type": "image", "content": json.dumps({**media, "filesize": rng.randint(20_000, 400_000)})}]
        return msgtype, {"item": items}, None
    if msgtype == "chatrecord":
        items = [{"type": "ChatRecordText", "msgtime": int(ts.timestamp()) - 600 + 30 * i,
                  "content": json.dumps({"content": T.chat_line(rng)}, ensure_ascii=False),
                  "from_chatroom": True} for i in range(rng.randint(2, 4))]
        return msgtype, {"title": "群聊的聊天记录", "item": items}, None
    if msgtype == "docmsg":
        return msgtype, {"title": f"{rng.choice(T.PROJECTS)}{rng.choice(T.DOCS)}", "doc_creator": sender,
                         "link_url": f"https://doc.weixin.qq.com/txdoc/excel?docid=e2_{_hex(rng, 20)}"}, "doc"
    if msgtype == "markdown":
        return msgtype, {"content": T.fill(rng, rng.choice(T.MARKDOWN))}, "info"
    if msgtype == "news":
        title, desc, url = rng.choice(T.NEWS)
        return msgtype, {"item": [{"title": title, "description": desc, "url": T.fill(rng, url),
                                   "picurl": "https://wework.qpic.cn/wwpic/" + _hex(rng, 16) + "/0"}]}, "info"
    if msgtype == "location":
        title, address = rng.choice(T.LOCATIONS)
        return msgtype, {"longitude": 121.59 + rng.random() / 100, "latitude": 31.2 + rng.random() / 100,
                         "address": address, "title": title, "zoom": 15}, None
    if msgtype == "card":
        other = rng.choice(model.ctx.roster)["wecom_userid"]
        return msgtype, {"corpname": "示例科技有限公司", "userid": other}, None
    if msgtype == "redpacket":
        n = rng.randint(1, 10)
        return msgtype, {"type": 2, "wish": rng.choice(T.WISHES), "totalcnt": n, "totalamount": 100 * n}, None
    if msgtype == "weapp":
        return msgtype, {"title": "会议室预订", "description": "查看本周会议室空闲时段", "username": "gh_3f2a1b0c9d8e@app",
                         "displayname": "行政服务"}, None
    start = int((ts + timedelta(days=1)).replace(hour=10, minute=0, second=0).timestamp())
    if msgtype == "calendar":
        return msgtype, {"title": f"{rng.choice(T.PROJECTS)}评审会", "creatorname": model.display_name(sender),
                         "attendeename": [], "starttime": start, "endtime": start + 3600,
                         "place": rng.choice(T.ROOMS), "remarks": ""}, None
    # meeting: meeting ids run past int64, as in the vendor samples
    return "meeting", {"topic": f"{rng.choice(T.PROJECTS)}沟通会", "starttime": start, "endtime": start + 3600,
                       "address": "", "remarks": "", "meetingtype": 102,
                       "meetingid": rng.randrange(10**18, 2 * 10**19), "status": 1}, None


def _day_times(rng: random.Random, d: date) -> list[datetime]:
    n = rng.randint(2200, 2800) if is_workday(d) else rng.randint(120, 260)
    out = []
    for _ in range(n):
        r = rng.random()
        lo, hi = (8.5, 18.5) if r < 0.85 else (18.5, 22.5) if r < 0.98 else (7.0, 8.5)
        s = int((lo + rng.random() * (hi - lo)) * 3600)
        out.append(at(d, time(s // 3600, s // 60 % 60, s % 60)) + timedelta(microseconds=rng.randrange(1000) * 1000))
    return sorted(out)


def _conversation(model: WecomModel, ts: datetime, day: dict[str, Any], active: list[str],
                  active_set: set[str]) -> tuple[str, str | None, list[str]] | None:
    """(sender, roomid, tolist) of one ordinary message at `ts`, or None if nobody can send."""
    rng = model.rng
    if rng.random() < 0.62:
        if not day["groups"]:
            return None
        g = rng.choices(day["groups"], cum_weights=day["cum_weights"])[0]
        if not g.alive(ts):
            return None
        # whole-day stays need no time check; only active employees and externals post
        present = [s.userid for s, whole in day["stays"][g.group_id] if whole or s.present(ts)]
        senders = [u for u in present if u in active_set or u in model.externals]
        if len(senders) < 2:
            return None
        sender = rng.choice(senders)
        return sender, g.group_id, [u for u in present if u != sender]
    sender = rng.choice(active)
    if day["externals"] and rng.random() < 0.15:
        customer = rng.choice(day["externals"])
        return (customer, None, [sender]) if rng.random() < 0.4 else (sender, None, [customer])
    other = rng.choice(active)
    return (sender, None, [other]) if other != sender else None


def _day_plan(model: WecomModel, d: date) -> dict[str, Any]:
    """Who can talk where on day `d`: stays overlapping the day (flagged whole-day), groups
    weighted by size for picking."""
    lo, hi = at(d, 0), at(d + timedelta(days=1), 0)
    stays = {gid: [(s, s.joined <= lo and (s.left is None or s.left >= hi)) for s in model.stays_of(gid)
                   if s.joined < hi and (s.left is None or s.left > lo)] for gid in model.groups}
    groups = [g for g in model.groups.values() if len(stays[g.group_id]) >= 2]
    weights = [len(stays[g.group_id]) ** 0.7 for g in groups]
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    return {"stays": stays, "groups": groups, "cum_weights": cum, "externals": sorted(model.externals)}


def build_messages(model: WecomModel) -> None:
    ctx, rng = model.ctx, model.rng
    kinds, weights = zip(*MSGTYPES)
    cum_weights = [sum(weights[: i + 1]) for i in range(len(weights))]
    employees = [r["wecom_userid"] for r in ctx.roster]
    recent: dict[tuple[str, str], list[str]] = {}  # (sender, conversation) -> msgids, for revokes
    for d in ctx.period():
        active = [u for u in employees if model.active(u, d)]
        active_set = set(active)
        day = _day_plan(model, d)
        for ts in _day_times(rng, d):
            conv = _conversation(model, ts, day, active, active_set)
            if conv is None:
                continue
            sender, room, to = conv
            key = (sender, room or "|".join(sorted([sender, *to])))
            kind = rng.choices(kinds, cum_weights=cum_weights)[0]
            if kind == "revoke" and recent.get(key):
                model.send(ts, sender, "revoke", {"pre_msgid": recent[key].pop()}, roomid=room, to=to, action="recall")
                continue
            if kind in ("text", "revoke"):
                msgid = model.say(ts, sender, T.chat_line(rng), roomid=room, to=to)
            else:
                msgtype, body, body_key = _body(model, kind, ts, sender)
                msgid = model.send(ts, sender, msgtype, body, roomid=room, to=to, body_key=body_key)
            recent.setdefault(key, []).append(msgid)
            del recent[key][:-3]
        if is_workday(d):  # a few users switch enterprise log-ins during the day
            for u in rng.sample(active, min(2, len(active))):
                ts = office_time(rng, d)
                model.messages.append((ts, {"msgid": str(rng.randrange(10**20, 10**21)), "action": "switch",
                                            "time": int(ts.timestamp() * 1000), "user": u}))
