"""CHAT-04 sensitive data in messages: resident ID numbers, bank cards, mobile-number lists,
confidentiality markers.

Numbers are found by vectorised regular expressions over the normalised text (full-width digits
folded, `X` lower-cased); only the distinct candidate strings go through the maintained
validators of python-stdnum (`stdnum.cn.ric`: 18 characters, check digit, birth date and
region; `stdnum.luhn` for cards). A candidate is a maximal run of digits, possibly written in
groups separated by single spaces or hyphens (`6222 0212 3456 7890 123`, `138-0013-8000`), and
also each of its groups on its own (a space-separated list of phone numbers). A card number
counts only when one of the policy's card keywords ends at most `card_keyword_window_chars`
characters before it, no digit in between, counted in the normalised text (punctuation between
Chinese characters is not counted, like everywhere else a term is matched). Evidence never holds
a full number: every number is shown with all but its last 4 digits masked.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl
from stdnum import luhn
from stdnum.cn import ric

from wxpipeline.checks.chat_01_03_05_content import message_finding, sender_prefix, sent_on, with_sender
from wxpipeline.checks.chat_links import text_mask
from wxpipeline.checks.findings import evidence_json, mask_digits
from wxpipeline.checks.registry import Params, clause
from wxpipeline.checks.textnorm import normalise
from wxpipeline.checks.wordlists import WORDLIST_SCHEMA, compiled_terms, contains_any_of, find_terms
from wxpipeline.times import fmt_ts

NUMBER = r"[0-9](?:[ \-]?[0-9])*x?"  # in normalised text: digits in groups, an ID's X lower-cased
KIND_ZH = {"id_number": "身份证号", "bank_card": "银行卡号", "mobiles": "多个手机号", "confidential": "涉密标识"}


class SensitiveData(Params):
    card_keywords: list[str]
    card_keyword_window_chars: int
    card_min_digits: int
    card_max_digits: int
    mobile_pattern: str  # regular expression that a whole mobile number (digits only, +86 removed) matches
    min_distinct_mobiles: int
    confidentiality_markers: list[str]
    marker_allow: list[str]  # phrases that contain a marker without marking anything (机密性)
    snippet_context_chars: int


def _candidates(found: pl.DataFrame, column: str) -> pl.DataFrame:
    """(msgid, value): each number token whole and each of its groups, digits only."""
    tokens = found.select("msgid", pl.col(column).alias("_t")).explode("_t").drop_nulls("_t")
    whole = tokens.select("msgid", pl.col("_t").str.replace_all(r"[ \-]", "").alias("value"))
    groups = (
        tokens.filter(pl.col("_t").str.contains(r"[ \-]"))
        .select("msgid", pl.col("_t").str.replace_all("-", " ").str.split(" ").alias("value"))
        .explode("value")
    )
    return pl.concat([whole, groups]).filter(pl.col("value") != "").unique(maintain_order=True)


def _valid(values: pl.Series, check) -> pl.Series:
    """The validator over the distinct candidate strings (a few per day), as a lookup."""
    uniq = values.unique().drop_nulls()
    return pl.DataFrame({"value": uniq, "_ok": [bool(check(v)) for v in uniq.to_list()]},
                        schema={"value": pl.String, "_ok": pl.Boolean})


def id_numbers(cands: pl.DataFrame, day: date) -> pl.DataFrame:
    ids = cands.filter(pl.col("value").str.contains(r"^[0-9]{17}[0-9x]$"))
    born = pl.col("value").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    ids = ids.filter(born.is_not_null() & (born <= day))
    ok = _valid(ids["value"], lambda v: ric.is_valid(v.upper()))
    return ids.join(ok, on="value").filter("_ok").select("msgid", pl.col("value").str.to_uppercase())


def bank_cards(found: pl.DataFrame, params: SensitiveData) -> pl.DataFrame:
    cands = _candidates(found, "_cards")
    cards = cands.filter(pl.col("value").str.len_chars().is_between(params.card_min_digits, params.card_max_digits)
                         & pl.col("value").str.contains(r"^[0-9]+$"))
    ok = _valid(cards["value"], luhn.is_valid)
    return cards.join(ok, on="value").filter("_ok").select("msgid", "value")


def mobiles(cands: pl.DataFrame, params: SensitiveData) -> pl.DataFrame:
    v = pl.col("value")
    local = pl.when((v.str.len_chars() == 13) & v.str.starts_with("86")).then(v.str.slice(2)).otherwise(v)
    return (
        cands.with_columns(local.alias("value"))
        .filter(pl.col("value").str.contains(f"^(?:{params.mobile_pattern})$"))
        .unique(["msgid", "value"], maintain_order=True)
        .select("msgid", "value")
    )


def _marker_lists(params: SensitiveData) -> pl.DataFrame:
    rows = [("confidential", t, "policy:CHAT-04", i) for i, t in enumerate(params.confidentiality_markers, 1)]
    rows += [("confidential_allow", t, "policy:CHAT-04", i) for i, t in enumerate(params.marker_allow, 1)]
    return pl.DataFrame(rows, schema=WORDLIST_SCHEMA, orient="row")


MAY_HOLD_A_NUMBER = r"[0-9]{3}"  # every number the clause looks for has more digits in a row


def marker_patterns(params: SensitiveData) -> list[str]:
    """The confidentiality markers as the normalised text holds them."""
    return compiled_terms(_marker_lists(params), ["confidential"])["pattern"].unique().to_list()


def may_be_sensitive(params: SensitiveData) -> pl.Expr:
    """The messages (normalised text) any search of this clause can find something in: three digits
    in a row (every number it looks for has more), or a confidentiality marker."""
    found = pl.col("text_norm").str.contains(MAY_HOLD_A_NUMBER)
    marks = marker_patterns(params)
    if marks:
        found = found | contains_any_of(pl.col("text_norm"), marks)
    return found.fill_null(False)


def markers(msgs: pl.DataFrame, params: SensitiveData) -> pl.DataFrame:
    lists = _marker_lists(params)
    if not params.confidentiality_markers:
        return pl.DataFrame(schema={"msgid": pl.String, "term": pl.String, "offset": pl.Int64, "snippet": pl.String})
    hits = find_terms(msgs.select("msgid", "text", "text_norm"), text="text", normalised="text_norm",
                      word_lists=lists, categories=["confidential"], allow=["confidential_allow"],
                      context=params.snippet_context_chars)
    return hits.select("msgid", "term", "offset", "snippet")


def _card_regex(params: SensitiveData) -> str:
    keywords = [k for k in normalise(pl.Series(params.card_keywords, dtype=pl.String)).to_list() if k]
    alternation = "|".join(re.escape(k) for k in sorted(set(keywords), key=len, reverse=True))
    return f"(?:{alternation})[^0-9]{{0,{params.card_keyword_window_chars}}}{NUMBER}"


def _masked(values: pl.Expr) -> pl.Expr:
    return values.list.eval(mask_digits(pl.element()))


@clause(
    "CHAT-04",
    domain="chat",
    title="敏感信息泄露",
    text="消息不得含有：校验位及出生日期有效的 18 位居民身份证号；前 20 个字符内有“卡号/银行卡/信用卡/储蓄卡/工资卡”"
         "等关键词、且通过 Luhn 校验的 16–19 位银行卡号；一条消息中 3 个及以上不同的手机号；涉密标识（绝密、机密、"
         "内部资料、客户名单……）。证据中号码只保留后 4 位。",
    source="公司企业微信管理制度 第十一条(二), 第十四条; 工程公司微信管理制度 第十条",
    subject="{msgid}",
    params=SensitiveData,
)
def chat_04_sensitive(messages: pl.DataFrame, members: pl.DataFrame, roster: pl.DataFrame, params: SensitiveData,
                      day: date) -> pl.DataFrame:
    # the searches below run on the few messages that can hold a number or a marker
    # (once per distinct text when the texts repeat: `text_mask`)
    candidates = messages.filter(text_mask(messages, may_be_sensitive(params), "text_norm")) \
        if "text_norm" in messages.columns else messages
    msgs = sent_on(candidates, day)
    norm = pl.col("text_norm")
    with_digits = msgs.filter(norm.str.contains(r"[0-9]{3}").fill_null(False)).select(
        "msgid",
        norm.str.extract_all(NUMBER).alias("_numbers"),
        norm.str.extract_all(_card_regex(params)).list.eval(pl.element().str.extract(f"({NUMBER})$", 1))
        .alias("_cards"),
    )
    cands = _candidates(with_digits, "_numbers")
    ids = id_numbers(cands, day)
    cards = bank_cards(with_digits, params)
    phones = mobiles(cands, params)
    many = phones.group_by("msgid").agg(pl.col("value").alias("mobiles")).filter(
        pl.col("mobiles").list.len() >= params.min_distinct_mobiles)
    marks = markers(msgs, params).group_by("msgid", maintain_order=True).agg(
        pl.struct("term", "offset", "snippet").alias("markers"))
    flagged = pl.concat([ids["msgid"], cards["msgid"], many["msgid"], marks["msgid"]]).unique().implode()
    per = (
        msgs.select("msgid").filter(pl.col("msgid").is_in(flagged))  # left joins over the flagged few only
        .join(ids.group_by("msgid").agg(pl.col("value").unique(maintain_order=True).alias("ids")), on="msgid",
              how="left")
        .join(cards.group_by("msgid").agg(pl.col("value").unique(maintain_order=True).alias("cards")), on="msgid",
              how="left")
        .join(many, on="msgid", how="left")
        .join(marks, on="msgid", how="left")
        .filter(pl.any_horizontal(pl.col("ids", "cards", "mobiles", "markers").is_not_null()))
    )
    kinds = pl.concat_list(
        pl.when(pl.col(c).is_not_null()).then(pl.lit(k))
        for c, k in (("ids", "id_number"), ("cards", "bank_card"), ("mobiles", "mobiles"), ("markers", "confidential"))
    ).list.drop_nulls()
    out = with_sender(msgs.join(per, on="msgid", how="inner"), roster, day, members).with_columns(kinds.alias("kinds"))
    kinds_zh = pl.col("kinds").list.eval(pl.element().replace_strict(KIND_ZH, return_dtype=pl.String)).list.join("、")
    return out.select(message_finding(
        day,
        pl.format("{}发送的消息含敏感信息：{}", sender_prefix(), kinds_zh),
        evidence_json(
            sent_at=fmt_ts("sent_at"), sender=pl.col("sender"), roomid=pl.col("roomid"), msgtype=pl.col("msgtype"),
            kinds=pl.col("kinds"), id_numbers=_masked(pl.col("ids")), bank_cards=_masked(pl.col("cards")),
            mobiles=_masked(pl.col("mobiles")), mobile_count=pl.col("mobiles").list.len(),
            markers=pl.col("markers"),
        ),
    ))
