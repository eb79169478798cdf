"""Reports never show more than the last 4 digits of a phone, resident ID or bank card number."""

from wxpipeline.reports.masking import evidence_text, is_sensitive_key, mask_text, masked_evidence


def test_numbers_in_text_are_masked():
    text = "电话13812345678，+86 139-1234-5678，身份证11010519491231002X，卡号6222021234567890128"
    out = mask_text(text)
    assert "13812345678" not in out and "1391234" not in out and "1101051949" not in out
    assert "*******5678" in out and "**************002X" in out and "***************0128" in out


def test_identifiers_that_are_not_pii_stay():
    tx = "交易 4200096717202610119835946486 金额 58.00 元，2026-10-11 15:22:10，msg 1234567890123456"
    assert mask_text(tx) == tx  # 28-digit transaction id; a 16-digit number failing Luhn


def test_sensitive_keys_keep_last_four_whatever_the_shape():
    ev = masked_evidence('{"phone": "010-62345678", "id_number": "110105194912310021", "phones": ["13812345678"],'
                         ' "amount_yuan": "58.00", "account": "张伟-财务"}')
    assert ev == {"phone": "*******5678", "id_number": "**************0021", "phones": ["*******5678"],
                  "amount_yuan": "58.00", "account": "张伟-财务"}
    assert is_sensitive_key("idNumber") and is_sensitive_key("银行卡号") and not is_sensitive_key("traded_at")


def test_evidence_text_is_readable():
    # labelled Chinese fields (reports/evidence.py); an unlabelled key shows as 其他, never by name
    assert evidence_text('{"reason": "非工作日", "is_workday": false, "x": null}') == "原因 非工作日；工作日 否；其他 无"
    assert evidence_text("not json 13812345678") == "not json *******5678"


def test_texts_without_a_long_number_skip_the_patterns_and_nothing_changes():
    """`mask_text` runs its patterns only on a text holding eleven digits or more at most one
    whitespace or `-` apart: on texts built from digits, separators and letters, the same output
    as running every pattern on any text with a digit (the gate's near misses: ten digits, a
    double separator, a `+86` prefix, a full-width digit)."""
    import random
    import re

    from wxpipeline.reports import masking as M

    def card(m) -> str:
        digits = re.sub(r"\D", "", m.group())
        return M.mask_digits(m.group()) if 16 <= len(digits) <= 19 and M._luhn_ok(digits) else m.group()

    def every_pattern(text: str) -> str:
        text = M._RESIDENT_ID.sub(lambda m: M.mask_digits(m.group()), text)
        text = M._MOBILE.sub(lambda m: M.mask_digits(m.group()), text)
        return M._CARD.sub(card, text)

    rng = random.Random(16)
    pieces = [*"0123456789" * 3, "13", "13", "18", " ", "-", "  ", "--", "X", "+86", "１", "\u3000", "电话",
              ":", "a"]
    texts = ["1381234567", "138 1234 5678", "138  1234 5678", "+86 1381234567", "13８12345678",
             "6222 0212 3456 7890 128", "11010519491231002X", "2026-10-12 10:00:00 计数 12345"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(5000)]
    masked = 0
    for text in texts:
        assert M.mask_text(text) == every_pattern(text), text
        masked += M.mask_text(text) != text
    assert masked > 50  # the generated texts do hold numbers to mask (100 of them)
