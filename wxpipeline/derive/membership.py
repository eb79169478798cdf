"""Group membership timeline: who was in which group when, with which nickname, as of a day.

Evidence: group snapshots (`wecom_groups` / `wecom_group_members`, ground truth at their time,
each member with the `join_time` of their current stay) and `change_external_chat` events
(add_member / del_member / dismiss at the second they happened, but possibly lost, duplicated or
delivered out of order). For day D the function looks at a window per group: from the group's
last snapshot before D (t0) to its first snapshot after D (t1), at most `LOOKBACK` either side,
and the events in between. Nothing before t0 is needed: t0 is the truth, and the snapshot's
`join_time` dates the stays that began earlier. So one partition reads ~3 snapshots and a few
days of events, never the whole history.

Per (group, member) the evidence becomes a time-ordered log of states: present (in a snapshot),
absent (the group is in a snapshot, the member is not), add (event), del / dismiss (event).
Snapshots win: a del or dismiss event is ignored when the next snapshot still shows the member
with a `join_time` before the event (the event is wrong, or its re-add was lost); a snapshot
whose `join_time` is later than the previous evidence starts a new stay even without events
(left and came back between two observations). A stay is a run of present states.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from wxpipeline.times import TS, day_bounds

LOOKBACK = timedelta(days=14)  # a group unseen by any snapshot this long is judged on events only
SAME_JOIN = timedelta(seconds=60)  # an add event and the snapshot's join_time of the same join
KEY = ["group_id", "userid"]

# bumped when the timeline's output changes: the UI then marks wecom_membership_timeline changed
VERSION = 1
SCHEMA = pl.Schema({
    "day": pl.Date, "group_id": pl.String, "userid": pl.String,
    "joined_at": TS, "join_source": pl.String, "join_method": pl.String, "join_scene": pl.Int64,
    "invitor": pl.String, "left_at": TS, "left_source": pl.String, "quit_method": pl.String,
    "first_seen_at": TS, "last_seen_at": TS, "member_type": pl.Int64,
    "group_nickname": pl.String, "nickname_seen_at": TS, "group_name": pl.String, "owner": pl.String,
})
# priority at equal times: events first, the snapshot taken in the same second has the last word
_PRIO = {"add": 0, "del": 0, "dismiss": 0, "present": 1, "absent": 1}


def window(day: date, lookback: timedelta = LOOKBACK) -> tuple[datetime, datetime]:
    """The widest span of records `membership_timeline` may read for `day`."""
    start, end = day_bounds(day)
    return start - lookback, end + lookback


def membership_timeline(
    members: pl.LazyFrame | pl.DataFrame,
    groups: pl.LazyFrame | pl.DataFrame,
    events: pl.LazyFrame | pl.DataFrame,
    day: date,
    lookback: timedelta = LOOKBACK,
) -> pl.DataFrame:
    """Every stay of a member in a group that overlaps `day` (Asia/Shanghai), one row per stay.

    Inputs are the staged columns of `wecom_group_members`, `wecom_groups` and
    `wecom_group_events` (deduplicated; any span, they are cut to `window(day)` here).
    Output columns (`SCHEMA`):

    * `day`; `group_id`, `userid`: the stay's group and member.
    * `joined_at`: start of the stay: the snapshot's `join_time` when a snapshot saw the stay,
      else the add_member event's time; `join_source` snapshot|event; `join_method`
      invite|qrcode, `join_scene` (groupchat/get scale) and `invitor` from the snapshot.
    * `left_at`: end of the stay, null while still present at the last evidence of the window.
      `left_source` says what ended it: `event` (del_member at `left_at`, `quit_method`
      self|removed), `dismiss` (group dismissed at `left_at`), `snapshot` (the member was
      absent from the snapshot taken at `left_at`, or rejoined then: the leave happened between
      `last_seen_at` and `left_at`).
    * `first_seen_at`, `last_seen_at`: first and last snapshot showing the stay (null if none,
      e.g. joined and left between snapshots).
    * `member_type`: 1 internal, 2 external (null if only events saw the stay, or msgaudit).
    * `group_nickname` as of the day: from the last snapshot of the stay taken before the end
      of the day, else the first one after it; `nickname_seen_at` is that snapshot's time.
    * `group_name`, `owner`: the group's, from the same rule over the group's snapshots.

    So "present at instant T" is `joined_at <= T and (left_at is null or left_at > T)`; for a
    stay ended by `snapshot`, a T between `last_seen_at` and `left_at` is uncertain, and "absent
    from the first snapshot after T" means `left_source == "snapshot" and last_seen_at < T`.
    """
    start, end = day_bounds(day)
    lo, hi = window(day, lookback)
    members, groups, events = (f.lazy() for f in (members, groups, events))

    obs = (
        groups.filter(pl.col("snapshot_time").is_between(lo, hi, closed="left"))
        .select("group_id", "snapshot_time", "group_name", "owner")
        .unique(["group_id", "snapshot_time"], keep="last")
        .collect()
    )
    bounds = obs.group_by("group_id").agg(
        pl.col("snapshot_time").filter(pl.col("snapshot_time") < start).max().alias("_t0"),
        pl.col("snapshot_time").filter(pl.col("snapshot_time") >= end).min().alias("_t1"),
    ).with_columns(pl.col("_t0").fill_null(lo), pl.col("_t1").fill_null(hi))
    obs = obs.join(bounds, on="group_id").filter(pl.col("snapshot_time").is_between("_t0", "_t1"))

    # the window's snapshots usually span D-1..D+1: a range on the column prunes the rest
    first, last = (obs["snapshot_time"].min(), obs["snapshot_time"].max()) if obs.height else (lo, lo)
    present = (
        members.filter(pl.col("snapshot_time").is_between(first, last))
        .join(obs.lazy().select("group_id", "snapshot_time"), on=["group_id", "snapshot_time"], how="semi")
        .select(*KEY, pl.col("snapshot_time").alias("time"), "join_time", "join_method", "join_scene", "invitor",
                "member_type", "group_nickname")
        .with_columns(pl.lit("present").alias("kind"), pl.lit(1, pl.Int8).alias("state"))
        .collect()
    )
    ev = (
        events.filter(pl.col("event_time").is_between(lo, hi, closed="left"))
        .filter((pl.col("change_type") == "dismiss") | pl.col("update_detail").is_in(["add_member", "del_member"]))
        .collect()
        .join(bounds, on="group_id", how="left")
        .filter(pl.col("event_time").is_between(pl.col("_t0").fill_null(lo), pl.col("_t1").fill_null(hi)))
    )
    changes = (
        ev.filter(pl.col("change_type") == "update").explode("members").rename({"members": "userid"})
        .filter(pl.col("userid").is_not_null())
        .select(*KEY, pl.col("event_time").alias("time"), "join_method", "quit_method",
                pl.when(pl.col("update_detail") == "add_member").then(pl.lit("add")).otherwise(pl.lit("del")).alias("kind"))
        .with_columns(pl.when(pl.col("kind") == "add").then(1).otherwise(0).cast(pl.Int8).alias("state"))
    )
    candidates = pl.concat([present.select(KEY), changes.select(KEY)]).unique()
    absent = (
        candidates.join(obs.select("group_id", pl.col("snapshot_time").alias("time")), on="group_id")
        .join(present.select(*KEY, "time"), on=[*KEY, "time"], how="anti")
        .with_columns(pl.lit("absent").alias("kind"), pl.lit(0, pl.Int8).alias("state"))
    )
    dismissed = (
        candidates.join(ev.filter(pl.col("change_type") == "dismiss").select("group_id", pl.col("event_time").alias("time")),
                        on="group_id")
        .with_columns(pl.lit("dismiss").alias("kind"), pl.lit(0, pl.Int8).alias("state"))
    )
    log = pl.concat([present, changes, absent, dismissed], how="diagonal_relaxed")
    stays = _stays(log, end)
    overlapping = stays.filter((pl.col("joined_at") < end) & (pl.col("left_at").is_null() | (pl.col("left_at") >= start)))
    return (
        overlapping.join(_as_of(obs, ["group_name", "owner"], end), on="group_id", how="left")
        .with_columns(pl.lit(day).alias("day"))
        .select(SCHEMA.names())
        .match_to_schema(SCHEMA)
        .sort(KEY + ["joined_at"])
    )


def _key_edges(log: pl.DataFrame) -> pl.DataFrame:
    """`_first`/`_last`: the row starts/ends its (group, member) run in the sorted log. Shifts
    guarded by these replace `over(KEY)` windows, which cost ~10x more on a million rows."""
    first = (pl.col("group_id") != pl.col("group_id").shift(1)) | (pl.col("userid") != pl.col("userid").shift(1))
    return log.with_columns(first.fill_null(True).alias("_first")).with_columns(
        pl.col("_first").shift(-1).fill_null(True).alias("_last"))


def _stays(log: pl.DataFrame, end: datetime) -> pl.DataFrame:
    """The state log of every (group, member) -> one row per stay."""
    if log.height == 0:
        return pl.DataFrame(schema={k: v for k, v in SCHEMA.items() if k not in ("day", "group_name", "owner")})
    log = _key_edges(log.with_columns(pl.col("kind").replace_strict(_PRIO, return_dtype=pl.Int8).alias("_prio"))
                     .sort([*KEY, "time", "_prio"], maintain_order=True))
    # drop del/dismiss events that the next snapshot contradicts (member still there, same stay):
    # `_next` = the next snapshot's verdict for this member (-1 absent, -2 present since an
    # unknown time, else its join time in us; -3 = no later snapshot)
    next_obs = (
        pl.when(pl.col("kind") == "present").then(pl.col("join_time").dt.epoch("us").fill_null(-2))
        .when(pl.col("kind") == "absent").then(pl.lit(-1, pl.Int64))
    )
    log = log.with_columns(
        pl.when("_last").then(pl.lit(-3, pl.Int64)).otherwise(next_obs.shift(-1)).backward_fill().alias("_next"))
    contradicted = (
        pl.col("kind").is_in(["del", "dismiss"]) & (pl.col("_next") >= 0)
        & (pl.col("_next") <= pl.col("time").dt.epoch("us"))
    )
    log = _key_edges(log.filter(~contradicted.fill_null(False)).drop("_first", "_last"))

    prev_state = pl.when("_first").then(None).otherwise(pl.col("state").shift(1))
    prev_time = pl.when("_first").then(None).otherwise(pl.col("time").shift(1))
    rejoined = (pl.col("kind") == "present") & (pl.col("join_time") > prev_time + SAME_JOIN)
    starts = (pl.col("state") == 1) & (prev_state.is_null() | (prev_state == 0) | rejoined.fill_null(False))
    log = log.with_columns(
        starts.cast(pl.Int64).alias("_start"),
        ((pl.col("state") == 0) & (prev_state == 1)).fill_null(False).alias("_closes"),
    ).with_columns(pl.col("_start").cum_sum().alias("_stay"))
    # rows of a member before its first stay (e.g. absent from the first snapshot) belong to none
    before_any = pl.when("_first").then(pl.col("_stay") - pl.col("_start")).forward_fill()
    log = log.filter(pl.col("_stay") > before_any)

    seen = pl.col("kind") == "present"
    before_end = seen & (pl.col("time") < end)
    after_end = seen & (pl.col("time") >= end)

    def where(cond: pl.Expr, col: str) -> pl.Expr:
        return pl.when(cond).then(pl.col(col))

    # one stay's snapshots share its join time, scene, invitor and type: min/max pick them
    log = log.with_columns(
        where(seen, "join_time").alias("_sj"), where(pl.col("state") == 1, "time").alias("_t1"),
        where(pl.col("kind") == "add", "time").alias("_add"), where(seen, "join_method").alias("_jm"),
        where(pl.col("kind") == "add", "join_method").alias("_jm_add"), where(seen, "join_scene").alias("_js"),
        where(seen, "invitor").alias("_inv"), where(seen, "member_type").alias("_mt"),
        where("_closes", "time").alias("_left"), where("_closes", "kind").alias("_closed_by"),
        where("_closes", "quit_method").alias("_qm"), where(seen, "time").alias("_seen"),
        where(before_end, "time").alias("_nb_t"), where(after_end, "time").alias("_na_t"),
    )
    stays = log.group_by("_stay").agg(
        pl.col("group_id").first(), pl.col("userid").first(),
        pl.col("_sj").min(), pl.col("_t1").min(), pl.col("_add").min(),
        pl.col("_jm").min(), pl.col("_jm_add").min(), pl.col("_js").max().alias("join_scene"),
        pl.col("_inv").max().alias("invitor"), pl.col("_mt").max().alias("member_type"),
        pl.col("_left").min().alias("left_at"), pl.col("_closed_by").min(), pl.col("_qm").min().alias("quit_method"),
        pl.col("_seen").min().alias("first_seen_at"), pl.col("_seen").max().alias("last_seen_at"),
        pl.col("_nb_t").max(), pl.col("_na_t").min(),
    ).with_columns(pl.coalesce("_nb_t", "_na_t").alias("nickname_seen_at"))
    # the nickname of the snapshot chosen above (as of the day: last before its end, else first after)
    nick = log.filter(seen).select("_stay", pl.col("time").alias("nickname_seen_at"), "group_nickname")
    stays = stays.join(nick, on=["_stay", "nickname_seen_at"], how="left").sort("_stay").with_columns(
        pl.coalesce("_sj", "_t1").alias("joined_at"),
        pl.when(pl.col("_sj").is_not_null()).then(pl.lit("snapshot"))
        .when(pl.col("_add") == pl.col("_t1")).then(pl.lit("event"))
        .otherwise(pl.lit("snapshot")).alias("join_source"),
        pl.coalesce("_jm", "_jm_add").alias("join_method"),
    )
    # a stay followed by a rejoin without closing evidence ended by the rejoin at the latest
    same_key = (pl.col("group_id") == pl.col("group_id").shift(-1)) & (pl.col("userid") == pl.col("userid").shift(-1))
    next_join = pl.when(same_key).then(pl.col("joined_at").shift(-1))
    return stays.with_columns(
        pl.coalesce("left_at", next_join).alias("left_at"),
        pl.when(pl.col("_closed_by").is_not_null())
        .then(pl.col("_closed_by").replace({"del": "event", "absent": "snapshot"}))
        .when(next_join.is_not_null()).then(pl.lit("snapshot"))
        .alias("left_source"),
    ).select(
        *KEY, "joined_at", "join_source", "join_method", "join_scene", "invitor", "left_at", "left_source",
        "quit_method", "first_seen_at", "last_seen_at", "member_type", "group_nickname", "nickname_seen_at",
    )


def _as_of(obs: pl.DataFrame, columns: list[str], end: datetime) -> pl.DataFrame:
    """Per group, `columns` from its last snapshot before `end`, else its first one after."""
    ordered = obs.sort("group_id", "snapshot_time").with_columns((pl.col("snapshot_time") < end).alias("_before"))
    before = ordered.filter("_before").group_by("group_id").agg(pl.col(columns).last())
    after = ordered.filter(~pl.col("_before")).group_by("group_id").agg(pl.col(columns).first())
    return pl.concat([before, after.join(before, on="group_id", how="anti")])
