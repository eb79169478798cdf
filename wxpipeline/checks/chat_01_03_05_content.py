"""Message content clauses CHAT-01, CHAT-02, CHAT-03, CHAT-05, and what every message rule shares.

CHAT-04 (sensitive data) is in `chat_04_sensitive_data.py`, CHAT-06 / CHAT-07 (acknowledging a leader's @) in
`chat_06_07_replies.py`, ACC-01 (account used after departure) in `acc_01_leaver_accounts.py`.

Frames (staged columns of `wecom_messages`, see `wxpipeline/formats/wecom_archive.py`):

* `messages`: the judged day's archive records: msgid, action, sender, roomid (null = one-to-one),
  sent_at, msgtype, text (every human-readable text of the message), urls, revoked_msgid, and
  `text_norm` = `textnorm.normalise(text)`. The asset normalises once for all rules
  (`prepare_messages`); a frame without `text_norm` is normalised by the rule itself.
* `roster` (reference/roster.csv), `word_lists` (category, term, file, line), `members` (the
  membership timeline, see `chat_06_07_replies.py`: only the group names of the day are read here).

A message is judged on the day it was sent; `switch` records (log-in switches) and `recall`
records carry no text and are never content findings. The finding's `employee_id` is the
sender's (the roster row active that day, else their latest), `group_id` the room.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl
from pydantic import field_validator

from wxpipeline.checks.findings import evidence_json
from wxpipeline.checks.registry import Params, clause
from wxpipeline.checks.textnorm import normalise
from wxpipeline.checks.chat_links import (_has_urls, _link_in_text, _suffix_match, link_urls, might_hold_links, text_mask,
                                         url_parts)
from wxpipeline.checks.wordlists import (category_label, combined_pattern, compiled_terms, contains_any_of,
                                        find_patterns, find_terms, mask_numbers, term_rows)
from wxpipeline.times import day_bounds, fmt_ts

MESSAGE_COLUMNS = ["msgid", "action", "sender", "roomid", "sent_at", "msgtype", "text", "urls", "revoked_msgid"]
ENTERPRISE_RULES = "公司微信工作群管理规定"


# ---- shared -------------------------------------------------------------------------------------


def prepare_messages(messages: pl.DataFrame) -> pl.DataFrame:
    """The message columns the rules read, with `text_norm` (normalised once per day)."""
    cols = [c for c in MESSAGE_COLUMNS if c in messages.columns]
    out = messages.select(cols)
    if "text_norm" in messages.columns:
        return out.with_columns(messages["text_norm"])
    return out.with_columns(normalise(out["text"]).alias("text_norm"))


def sent_on(messages: pl.DataFrame, day: date) -> pl.DataFrame:
    """The day's messages that carry text (send records), normalised."""
    lo, hi = day_bounds(day)
    msgs = messages.lazy().filter(
        (pl.col("action") == "send") & pl.col("text").is_not_null()
        & pl.col("sent_at").is_between(lo, hi, closed="left")
    ).select([c for c in [*MESSAGE_COLUMNS, "text_norm"] if c in messages.columns]).collect()
    return prepare_messages(msgs)


def active_on(day: date | pl.Expr) -> pl.Expr:
    """Roster rows active on `day` (hire_date <= D and (no leave_date or leave_date >= D))."""
    d = pl.lit(day) if isinstance(day, date) else day
    return (pl.col("hire_date") <= d) & (pl.col("leave_date").is_null() | (pl.col("leave_date") >= d))


def people(roster: pl.DataFrame, day: date) -> pl.DataFrame:
    """One row per WeCom userid: employee_id, name, is_leader, active (on `day`); the active roster
    row wins, else the latest hired."""
    return (
        roster.filter(pl.col("wecom_userid").is_not_null())
        .with_columns(active_on(day).alias("active"))
        .sort(["active", "hire_date"], descending=True, nulls_last=True)
        .unique("wecom_userid", keep="first", maintain_order=True)
        .select(pl.col("wecom_userid").alias("userid"), "employee_id", "name", "is_leader", "active")
    )


def _where() -> pl.Expr:
    return (
        pl.when(pl.col("roomid").is_null()).then(pl.lit("单聊"))
        .when(pl.col("group_name").is_not_null()).then(pl.format("群「{}」", "group_name"))
        .otherwise(pl.format("群聊 {} ", "roomid"))
    )


def sender_prefix() -> pl.Expr:
    """`张伟（zhangwei）10:02:03 在群「财务部工作群」` (needs `sender_name`, `sender`, `sent_at`,
    `roomid`, `group_name`)."""
    return pl.format("{}（{}）{} 在{}", pl.col("sender_name").fill_null(pl.col("sender")), "sender",
                     pl.col("sent_at").dt.strftime("%H:%M:%S"), _where())


def with_sender(df: pl.DataFrame, roster: pl.DataFrame, day: date,
                members: pl.DataFrame | None = None) -> pl.DataFrame:
    """The sender's employee_id and name, and the group's name as of `day` (from the membership
    timeline `members`, when it knows the group)."""
    who = people(roster, day).select("userid", "employee_id", sender_name="name")
    out = df.join(who, left_on="sender", right_on="userid", how="left")
    if members is None or "group_name" not in members.columns:
        return out.with_columns(pl.lit(None, dtype=pl.String).alias("group_name"))
    names = (members.filter((pl.col("day") == day) & pl.col("group_name").is_not_null())
             .select(pl.col("group_id").alias("roomid"), "group_name").unique("roomid"))
    return out.join(names, on="roomid", how="left")


def message_finding(day: date, summary: pl.Expr, evidence: pl.Expr) -> list[pl.Expr]:
    return [pl.col("msgid").alias("subject_id"), pl.lit(day).alias("partition_date"), "employee_id",
            pl.col("roomid").alias("group_id"), summary.alias("summary"), evidence]


# ---- word lists: CHAT-01, CHAT-02, CHAT-05 -----------------------------------------------------------


class WordListParams(Params):
    categories: list[str]
    allow_lists: list[str]
    snippet_context_chars: int
    max_hits_in_evidence: int


def _regex_ok(pattern: str) -> str:
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except Exception as e:  # polars reports the regex error; the policy loader names file and key
        raise ValueError(f"not a valid regular expression: {e}") from None
    return pattern


class AdvertisingParams(WordListParams):
    # name -> regular expression (polars/Rust syntax) on normalised text: simplified, half-width,
    # lower case, separators between Chinese characters removed
    patterns: dict[str, str]

    @field_validator("patterns")
    @classmethod
    def _valid(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _regex_ok(p) for k, p in v.items()}


def term_candidates(messages: pl.DataFrame, word_lists: pl.DataFrame) -> pl.DataFrame:
    """(msgid, category): the messages whose normalised text holds a term of that word list, for
    every list of `word_lists` (`wordlists.term_rows`). The asset computes it once per day from
    the frames it hands the rules, so CHAT-01/02/05 scan the day's text once between them."""
    msgs = prepare_messages(messages).select("msgid", "text_norm")
    terms = compiled_terms(word_lists, word_lists["category"].unique().to_list())
    if msgs.height and terms.height:
        # `term_rows`' own first test, once per distinct text when the texts repeat (`text_mask`: the
        # 10M bench day's 1M kept rows); `term_rows` then tests only rows that pass, so the same rows
        holds = contains_any_of(pl.col("text_norm"), sorted(set(terms["pattern"]))).fill_null(False)
        msgs = msgs.filter(text_mask(msgs, holds, "text_norm"))
    return term_rows(msgs, key="msgid", normalised="text_norm", word_lists=word_lists)


def _candidates_of(term_candidates: pl.DataFrame, categories: list[str]) -> pl.Expr:
    ids = term_candidates.filter(pl.col("category").is_in(categories))["msgid"].unique()
    return pl.col("msgid").is_in(ids.implode())


def word_list_hits(msgs: pl.DataFrame, word_lists: pl.DataFrame, params: WordListParams,
                   patterns: dict[str, str] | None = None,
                   term_candidates: pl.DataFrame | None = None) -> pl.DataFrame:
    """Word-list (and pattern) hits in `msgs`; with `term_candidates` (see there), the word lists
    are searched in the candidate messages only."""
    texts = msgs.select("msgid", "text", "text_norm")
    in_lists = texts if term_candidates is None else texts.filter(_candidates_of(term_candidates, params.categories))
    hits = find_terms(in_lists, text="text", normalised="text_norm", word_lists=word_lists,
                      categories=params.categories, allow=params.allow_lists, context=params.snippet_context_chars)
    if patterns:
        found = find_patterns(texts, text="text", normalised="text_norm", patterns=patterns,
                              context=params.snippet_context_chars)
        hits = pl.concat([hits, found]) if found.height else hits
    return hits


def _word_list_findings(messages: pl.DataFrame, term_candidates: pl.DataFrame, members: pl.DataFrame,
                        roster: pl.DataFrame, word_lists: pl.DataFrame, params: WordListParams, day: date, what: str,
                        patterns: dict[str, str] | None = None) -> pl.DataFrame:
    # the word lists are searched in their candidates only, the patterns in the messages they match
    wanted = _candidates_of(term_candidates, params.categories)
    if patterns and "text_norm" in messages.columns:  # (once per distinct text when the texts repeat)
        wanted = wanted | text_mask(messages, pl.col("text_norm").str.contains(combined_pattern(patterns))
                                    .fill_null(False), "text_norm")
    msgs = sent_on(messages.filter(wanted) if "text_norm" in messages.columns else messages, day)
    hits = word_list_hits(msgs, word_lists, params, patterns, term_candidates)
    labels = {c: category_label(c) for c in params.categories}
    # a pattern hit is labelled by the pattern's name (加微信+号码 ...)
    label = pl.when(pl.col("category") == "pattern").then(pl.col("term")).otherwise(
        pl.col("category").replace_strict(labels, default=pl.col("category"), return_dtype=pl.String))
    per = hits.sort("msgid", "offset").group_by("msgid", maintain_order=True).agg(
        pl.len().alias("n"),
        label.unique(maintain_order=True).alias("labels"),
        pl.col("category").unique(maintain_order=True).alias("categories"),
        pl.col("matched").first().alias("example"),
        pl.struct("category", "term", "offset", "length", "offset_basis", "snippet")
        .head(params.max_hits_in_evidence).alias("hits"),
    )
    out = with_sender(msgs.join(per, on="msgid", how="inner"), roster, day, members)
    return out.select(message_finding(
        day,
        pl.format("{}发送的消息含{} {} 处：{}（如「{}」）", sender_prefix(), pl.lit(what), "n",
                  pl.col("labels").list.join("、"), "example"),
        evidence_json(
            sent_at=fmt_ts("sent_at"), sender=pl.col("sender"), roomid=pl.col("roomid"), msgtype=pl.col("msgtype"),
            hit_count=pl.col("n"), categories=pl.col("categories"), hits=pl.col("hits"),
            offsets_in=pl.lit("the message text: every human-readable part of the message, newline-joined"),
        ),
    ))


@clause(
    "CHAT-01",
    domain="chat",
    title="聊天禁止内容",
    text="消息（群聊及单聊，所有带文字的消息类型）不得含有政治、色情、赌博、毒品、暴恐（含枪支）、邪教/迷信类违禁词；"
         "经繁简、全半角、大小写及汉字间分隔符归一化后匹配，允许词表中包含该词的词组除外。",
    source=f"公司企业微信管理制度 第十一条; {ENTERPRISE_RULES} 5, 7; 公司微信群管理办法 第六条(一)",
    subject="{msgid}",
    params=WordListParams,
)
def chat_01_prohibited(messages: pl.DataFrame, term_candidates: pl.DataFrame, members: pl.DataFrame,
                       roster: pl.DataFrame, word_lists: pl.DataFrame, params: WordListParams, day: date) -> pl.DataFrame:
    return _word_list_findings(messages, term_candidates, members, roster, word_lists, params, day, "违禁内容")


@clause(
    "CHAT-02",
    domain="chat",
    title="广告及招揽",
    text="消息不得发布商业广告、兼职招揽、推销信息：广告词表命中，或命中政策文件中的招揽模式（如“加微信/加v”后跟账号、"
         "日结/日赚金额、扫码领取）。",
    source=f"公司微信群管理制度 2.2.3; {ENTERPRISE_RULES} 7; 微信聊天管理制度 第七条",
    subject="{msgid}",
    params=AdvertisingParams,
)
def chat_02_advertising(messages: pl.DataFrame, term_candidates: pl.DataFrame, members: pl.DataFrame,
                        roster: pl.DataFrame, word_lists: pl.DataFrame, params: AdvertisingParams, day: date) -> pl.DataFrame:
    return _word_list_findings(messages, term_candidates, members, roster, word_lists, params, day, "广告/招揽内容",
                               params.patterns)


@clause(
    "CHAT-05",
    domain="chat",
    title="辱骂及人身攻击",
    text="消息不得含有辱骂、侮辱及人身攻击性语言（辱骂词表，归一化后匹配，允许词表除外）。",
    source=f"公司微信群管理制度 2.3.3; 微信聊天管理制度 第五条; {ENTERPRISE_RULES} 6",
    subject="{msgid}",
    params=WordListParams,
)
def chat_05_abuse(messages: pl.DataFrame, term_candidates: pl.DataFrame, members: pl.DataFrame,
                  roster: pl.DataFrame, word_lists: pl.DataFrame, params: WordListParams, day: date) -> pl.DataFrame:
    return _word_list_findings(messages, term_candidates, members, roster, word_lists, params, day, "辱骂/人身攻击用语")


# ---- CHAT-03 links ----------------------------------------------------------------------------------

_IP_LITERAL = r"^(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|\[[0-9a-f:.]*\]|0x[0-9a-f]+|[0-9]+)$"
MAX_HOST_LABELS = 10  # parent domains looked up per host (more labels than this is not a real host)
LINK_REASON_ZH = {"blocked_host": "黑名单域名", "ip_literal": "IP 地址直连", "shortener": "短链接",
                  "executable": "可执行/安装文件"}


class LinkParams(Params):
    # host lists: an entry matches the host itself and its subdomains; the allow list wins
    blocked_hosts: list[str]
    shortener_hosts: list[str]
    allowed_hosts: list[str]
    executable_extensions: list[str]
    flag_ip_literals: bool
    max_links_in_evidence: int


def _hosts(values: list[str]) -> list[str]:
    return sorted({v.strip().lower().lstrip("*").strip(".") for v in values if v.strip()})


@clause(
    "CHAT-03",
    domain="chat",
    title="可疑链接",
    text="消息中的链接不得指向黑名单域名、IP 地址直连、短链接服务，或以可执行/安装文件扩展名（.apk .exe .bat .scr .msi "
         ".cmd .js .vbs）结尾的路径；白名单域名（含其子域名）除外。",
    source=f"{ENTERPRISE_RULES} 7; 关于公司微信使用管理规定 三5",
    subject="{msgid}",
    params=LinkParams,
)
def chat_03_links(messages: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame, params: LinkParams,
                  day: date) -> pl.DataFrame:
    lo, hi = day_bounds(day)
    # only the day's messages that can hold a link are carried further (a few percent of them); the
    # link regex runs on those that hold a `.`, `://` or a url
    day_sends = (pl.col("action") == "send") & pl.col("sent_at").is_between(lo, hi, closed="left")
    msgs = messages.filter(day_sends & might_hold_links(messages.columns))
    on = "text_norm" if "text_norm" in msgs.columns else "text"  # what `_link_in_text` reads
    msgs = msgs.filter(text_mask(msgs, _link_in_text(msgs.columns), on) | _has_urls(msgs.columns))
    links = link_urls(msgs.select("msgid", "text", *[c for c in ("urls", "text_norm") if c in msgs.columns]))
    labels = pl.col("host").str.split(".")
    # each distinct host once (a day's links name far fewer hosts than links): the host and each
    # parent domain (a.b.example.com -> a.b.example.com, b.example.com, ...) against the lists
    # and the verdicts once per distinct url (host and path are functions of the url); only the
    # flagged urls are then joined back to the day's links (a busy day: ~175k links per 4M messages)
    urls = url_parts(links.select("url").unique())
    hosts = urls.select("host").unique().with_columns(
        pl.concat_list([labels.list.slice(k).list.join(".") for k in range(MAX_HOST_LABELS)])
        .list.eval(pl.element().filter(pl.element() != "")).alias("_suffixes")
    ).select(
        "host",
        _suffix_match(_hosts(params.blocked_hosts)).alias("_blocked"),
        _suffix_match(_hosts(params.shortener_hosts)).alias("_shortener"),
        _suffix_match(_hosts(params.allowed_hosts)).alias("allowed"),
    )
    urls = urls.join(hosts, on="host", how="left", nulls_equal=True)
    exts = [e.lower() if e.startswith(".") else "." + e.lower() for e in params.executable_extensions]
    ext_re = "(?:" + "|".join(re.escape(e) for e in exts) + ")$" if exts else None
    reasons = [
        pl.when(pl.col("_blocked")).then(pl.lit("blocked_host")),
        pl.when(pl.lit(params.flag_ip_literals) & pl.col("host").str.contains(_IP_LITERAL)).then(pl.lit("ip_literal")),
        pl.when(pl.col("_shortener")).then(pl.lit("shortener")),
    ]
    if ext_re:
        reasons.append(pl.when(pl.col("path").str.to_lowercase().str.contains(ext_re)).then(pl.lit("executable")))
    verdicts = urls.select("url", "host", "path", "allowed", pl.concat_list(reasons).list.drop_nulls().alias("reasons"))
    verdicts = verdicts.filter(~pl.col("allowed") & (pl.col("reasons").list.len() > 0))
    flagged = links.join(verdicts, on="url", how="inner", maintain_order="left")
    if flagged.height:
        # in Python, not as a polars UDF: clauses run in threads (factories/findings.run_clauses)
        # and a UDF would hold one of polars' threads waiting for the GIL
        flagged = flagged.with_columns(
            pl.Series("url", [mask_numbers(u[:300]) for u in flagged["url"].to_list()], dtype=pl.String))
    reason_zh = pl.col("reasons").list.eval(pl.element().replace_strict(LINK_REASON_ZH, return_dtype=pl.String))
    per = flagged.group_by("msgid", maintain_order=True).agg(
        pl.len().alias("n"),
        pl.col("reasons").list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True)
        .alias("kinds"),
        reason_zh.list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True).alias("kinds_zh"),
        pl.col("host").first().alias("example"),
        pl.struct("url", "host", "path", "reasons").head(params.max_links_in_evidence).alias("links"),
    )
    out = with_sender(msgs.join(per, on="msgid", how="inner"), roster, day, members)
    return out.select(message_finding(
        day,
        pl.format("{}发送的消息含可疑链接 {} 个：{}（如 {}）", sender_prefix(), "n", pl.col("kinds_zh").list.join("、"),
                  "example"),
        evidence_json(sent_at=fmt_ts("sent_at"), sender=pl.col("sender"), roomid=pl.col("roomid"),
                      msgtype=pl.col("msgtype"), link_count=pl.col("n"), kinds=pl.col("kinds"), links=pl.col("links")),
    ))

