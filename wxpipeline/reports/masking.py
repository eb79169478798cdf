"""Defensive PII masking for anything a report shows: rules already mask evidence, but a report
must never show more than the last 4 digits of a phone, resident ID or bank card number,
whatever a rule stored.

* mobile numbers (optionally +86, with spaces or dashes), 18-character resident ID numbers and
  16–19 digit card numbers passing the Luhn check are masked wherever they occur in text;
* values under evidence keys that name such data (`phone`, `mobile`, `id_number`, `card_no`,
  `身份证`, `手机`, `卡号`, ...) keep only their last 4 digits whatever their shape.

Long identifiers that are not personal data (28-digit WeChat Pay transaction ids, message ids)
are left alone: matches must not be part of a longer run of digits.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

KEEP = 4

_MOBILE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![\d])")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){15,18}(?![\d])")
# every pattern above matches eleven digits or more, each pair at most one whitespace or `-` apart:
# a text without such a run (most evidence values: times, counts, short ids) needs none of them
_LONG_NUMBER = re.compile(r"\d(?:[\s-]?\d){10}")

_SENSITIVE_TOKENS = {
    "phone", "phones", "mobile", "mobiles", "tel", "telephone", "idcard", "idno", "card", "cards", "cardno",
    "bankcard", "iban", "ssn", "passport",
}
_SENSITIVE_PAIRS = {("id", "number"), ("id", "card"), ("id", "no"), ("card", "number"), ("account", "number")}
_SENSITIVE_CN = ("手机", "电话", "身份证", "卡号", "银行卡", "证件号")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_digits(text: str, keep: int = KEEP) -> str:
    """Every digit (and ID check letter) but the last `keep` becomes `*`; separators are dropped."""
    chars = [c for c in text if c.isdigit() or c in "Xx"]
    if len(chars) <= keep:
        return text
    return "*" * (len(chars) - keep) + "".join(chars[-keep:])


def mask_text(text: str) -> str:
    """Mask phone, resident ID and card numbers inside free text."""
    if not text or not _LONG_NUMBER.search(text):
        return text
    text = _RESIDENT_ID.sub(lambda m: mask_digits(m.group()), text)
    text = _MOBILE.sub(lambda m: mask_digits(m.group()), text)

    def card(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group())
        return mask_digits(m.group()) if 16 <= len(digits) <= 19 and _luhn_ok(digits) else m.group()

    return _CARD.sub(card, text)


def is_sensitive_key(key: str) -> bool:
    return _sensitive_key(str(key))


@lru_cache(maxsize=4096)  # evidence of a busy day's findings repeats a few dozen keys thousands of times
def _sensitive_key(k: str) -> bool:
    if any(w in k for w in _SENSITIVE_CN):
        return True
    tokens = [t for t in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", k).lower()) if t]
    if any(t in _SENSITIVE_TOKENS for t in tokens):
        return True
    return any(pair in zip(tokens, tokens[1:]) for pair in _SENSITIVE_PAIRS)


def mask_value(value: Any, sensitive: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: mask_value(v, sensitive or is_sensitive_key(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v, sensitive) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return mask_value(str(value), sensitive) if sensitive else value
    if isinstance(value, str):
        if sensitive and sum(c.isdigit() for c in value) > KEEP:
            return re.sub(r"\d+(?:[\s-]?\d+)*[Xx]?", lambda m: mask_digits(m.group()), value)
        return mask_text(value)
    return value


def masked_evidence(evidence: str | None) -> dict | str:
    """The evidence JSON as a masked dict (or masked text when it is not a JSON object)."""
    if not evidence:
        return {}
    try:
        data = json.loads(evidence)
    except ValueError:
        return mask_text(evidence)
    return mask_value(data) if isinstance(data, dict) else mask_text(json.dumps(data, ensure_ascii=False))


def evidence_text(evidence: str | None, clause_id: str | None = None) -> str:
    """Masked evidence for people: Chinese sentences and labelled fields (`reports.evidence`)."""
    from wxpipeline.reports.evidence import format_evidence

    return format_evidence(clause_id, masked_evidence(evidence))
