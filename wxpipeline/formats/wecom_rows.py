"""One block's archive rows as the staged table's rows (`stage_rows`): the envelope's strings
trimmed, `from`/`user` as the sender, `tolist` as one canonical text, times to `sent_at` (a value
below 1e11 taken as seconds), a `switch` record typed by its action; and the rows that cannot be
staged (not an object, msgid or time missing, a time out of range, a NUL in an id) as rejects.
Shared by both paths of `wecom_archive` (the NDJSON reader's and the line-isolating one).
"""

from __future__ import annotations

import polars as pl

from .common import Reject
from .jsontools import as_int, epoch, nonempty, untrimmed
from .wecom_bodies import body_field, given_text
from .wecom_recipients import canonical_recipients, nul_in_recipients

S = pl.String

# Unix times: below 1e11 a value is seconds (older SDK wrappers; 1e11 ms would be 1973), else ms.
SECONDS_BELOW = 100_000_000_000
MAX_MS = 4_102_444_800_000  # 2100-01-01: later is a corrupt value, not a message
_IDS = ("msgid", "sender", "roomid")
_TRIMMED = ("msgid", "action", "from", "user", "roomid", "msgtype")  # envelope strings taken `nonempty`
# values that need no trimming, looked up rather than checked (`untrimmed`): the actions and the
# usual msgtypes (a block holding any other value is checked)
_CLEAN = {
    "action": ("send", "recall", "switch"),
    "msgtype": ("text", "image", "revoke", "agree", "disagree", "voice", "video", "card", "location", "emotion",
                "file", "link", "weapp", "chatrecord", "todo", "vote", "collect", "redpacket", "meeting", "docmsg",
                "markdown", "news", "calendar", "mixed", "meeting_voice_call", "voip_doc_share",
                "external_redpacket", "sphfeed", "qydiskfile"),
}


def stage_rows(flat: pl.DataFrame, file: str, keep: tuple[str, ...] = (), nul: bool = True) -> tuple[pl.DataFrame, list[Reject]]:
    """Staged rows of `flat` (one column per envelope key, the `text` body and, if read, the
    `revoke` body as structs, `_obj` false for a line that is not a JSON object, `raw` the line or
    null) and the rejected ones. `text` here is the text body's only; other bodies are added by
    `rich_content`.
    `nul`: look for NUL characters in ids (the caller may know the block has none)."""
    empty, padded = untrimmed(flat, _TRIMMED, _CLEAN)

    def given(c: str) -> pl.Expr:  # `nonempty`, without what a column has no need of (`untrimmed`)
        if c in padded:
            return nonempty(pl.col(c))
        return pl.when(pl.col(c) != "").then(pl.col(c)) if c in empty else pl.col(c)

    action = given("action")
    # one text a row (`wecom_recipients.canonical_recipients`), the same whichever way it came
    if "tolist" in flat.columns:  # read as a list
        recipients = canonical_recipients(pl.col("tolist"))
    else:  # decoded and made canonical by the caller, each distinct text once (`decode_recipients`)
        recipients = pl.col("_recipients")
    # `time`, `user` (switch records) and a missing msgtype are rare: a coalesce with a column
    # that is all null (or with nothing to fill) is skipped rather than copied
    absent = {c for c in ("time", "user") if flat[c].null_count() == flat.height}
    ints = flat.schema["msgtime"] == pl.Int64  # read as integers (ENVELOPE_INT_TIMES)
    if ints:
        t = pl.col("msgtime") if "time" in absent else pl.coalesce("msgtime", "time")
    else:
        ms_text = pl.coalesce(nonempty(pl.col("msgtime")), nonempty(pl.col("time")))
        t = as_int(ms_text)
    typed_everywhere = "msgtype" not in empty | padded and not flat["msgtype"].null_count()
    typed = flat.with_columns(
        given("msgid").alias("msgid"),
        action.alias("action"),
        (given("from") if "user" in absent else pl.coalesce(given("from"), given("user"))).alias("sender"),
        recipients.alias("recipients"),
        given("roomid").alias("roomid"),
        t.alias("_t"),
        # `switch` records have no msgtype: name them by their action so every row has a type
        (pl.col("msgtype") if typed_everywhere else
         pl.coalesce(given("msgtype"), pl.when(action == "switch").then(pl.lit("switch")))).alias("msgtype"),
        *(() if ints else (ms_text.alias("_ms_text"),)),
    ).with_columns(
        (pl.col("_t") < SECONDS_BELOW).alias("_in_seconds"),
    ).with_columns(
        pl.when(pl.col("_in_seconds")).then(pl.col("_t") * 1000).otherwise(pl.col("_t")).alias("_ms"),
    )
    # Whether any row can be rejected, from a few aggregates: usually none, and the reasons (a
    # chain over every row, times formatted as text) are then not worked out.
    suspect = nul or typed.select(
        (~pl.col("_obj")).any() | pl.col("msgid").is_null().any() | pl.col("_t").is_null().any()
        | (pl.col("_t") < 0).any() | (pl.col("_ms") > MAX_MS).any() | pl.col("msgtype").is_null().any()
    ).item()
    rejects: list[Reject] = []
    if suspect:
        if ints:  # the time as written, for the reasons
            typed = typed.with_columns(pl.col("_t").cast(S).alias("_ms_text"))
        if nul:
            nul = pl.any_horizontal(pl.col(_IDS).str.contains("\x00", literal=True).fill_null(False))
            nul = nul | nul_in_recipients(pl.col("recipients"))
        else:
            nul = pl.lit(False)
        typed = typed.with_columns(
            pl.when(~pl.col("_obj")).then(pl.lit("not a JSON object"))
            .when(pl.col("msgid").is_null()).then(pl.lit("msgid missing"))
            .when(pl.col("_ms_text").is_null()).then(pl.lit("msgtime missing"))
            .when(pl.col("_t").is_null()).then(pl.format("msgtime: cannot parse '{}' as a Unix time", pl.col("_ms_text")))
            .when((pl.col("_t") < 0) | (pl.col("_ms") > MAX_MS))
            .then(pl.format("msgtime: {} is out of range (before 1970 or after 2100)", pl.col("_ms_text")))
            .when(pl.col("msgtype").is_null()).then(pl.lit("msgtype missing"))
            .when(nul).then(pl.lit("NUL byte in msgid, from, tolist or roomid"))
            .alias("_reason"),
        )
        bad = (typed.lazy().filter(pl.col("_reason").is_not_null()).select("source_line", "_reason", "raw")
               .collect(engine="in-memory"))
        rejects = [Reject(file, int(ln), r, raw or "") for ln, r, raw in bad.iter_rows()]
        if bad.height:  # filtering copies every column: only when some row goes
            typed = typed.filter(pl.col("_reason").is_null())
    frame = typed.select(
        "msgid", "action", "sender", "recipients", "roomid",
        epoch(pl.col("_ms"), "ms").alias("sent_at"),
        "msgtype",
        given_text(body_field("text", "content")).alias("text"),
        pl.lit([], pl.List(S)).alias("urls"),
        (nonempty(body_field("revoke", "pre_msgid")) if "revoke" in flat.columns
         else pl.lit(None, S)).alias("revoked_msgid"),
        pl.lit(file).alias("source_file"),
        "source_line",
        "_in_seconds",
        *keep,
    )
    return frame, rejects
