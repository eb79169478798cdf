"""CHAT-04 sensitive data: resident IDs (stdnum), bank cards (Luhn + keyword), mobile lists, markers."""

from stdnum import luhn
from stdnum.cn import ric

from .chat_frames import POLICY, evidence, messages, msg, run, subjects



def with_check(base: str) -> str:
    return base + ric.calc_check_digit(base + "0")  # stdnum computes it over the number with a placeholder


ID = with_check("11010519491231002")
ID_X = next(with_check(b) for b in (f"44030419900307{n:03d}" for n in range(1000)) if with_check(b)[-1] == "X")
WRONG_ID = ID[:-1] + str((int(ID[-1]) + 1) % 10 if ID[-1].isdigit() else 0)
CARD = "622202123456789" + luhn.calc_check_digit("622202123456789")  # 16 digits
CARD19 = "621483001234567890" + luhn.calc_check_digit("621483001234567890")
BAD_CARD = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)


def kinds(text):
    out = run("CHAT-04", messages(msg(text, msgid="S1")))
    return evidence(out)["kinds"] if out.height else []


def test_valid_resident_id_fires_and_evidence_keeps_the_last_4_digits():
    out = run("CHAT-04", messages(msg(f"新员工身份证号 {ID}，请录入", msgid="S1")))
    assert subjects(out) == ["S1"]
    ev = evidence(out)
    assert ev["kinds"] == ["id_number"] and ev["id_numbers"] == ["*" * 14 + ID[-4:]]
    assert ID[:-4] not in out["evidence"][0] and ID[:-4] not in out["summary"][0]
    assert kinds(f"身份证：{ID_X.lower()}") == ["id_number"]  # X written in lower case
    assert kinds(f"证件 {ID[:6]} {ID[6:14]} {ID[14:]}") == ["id_number"]  # grouped


def test_wrong_check_digit_impossible_birth_date_and_long_runs_do_not_fire():
    assert ric.is_valid(ID) and not ric.is_valid(WRONG_ID)
    assert kinds(f"身份证号 {WRONG_ID}") == []
    bad_date = "11010519491331001"  # month 13
    assert kinds(f"身份证号 {with_check(bad_date)}") == []
    assert kinds(f"订单号 9{ID}") == []  # 19 digits: not an ID
    future = "11010520990101001"
    assert ric.is_valid(with_check(future)) and kinds(f"身份证号 {with_check(future)}") == []  # born after the message


def test_card_needs_luhn_and_a_keyword_within_20_characters():
    assert kinds(f"工资卡号：{CARD}") == ["bank_card"]
    assert kinds(f"请打到我的银行卡 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}") == ["bank_card"]
    assert kinds(f"信用卡{CARD19}") == ["bank_card"]
    out = run("CHAT-04", messages(msg(f"卡号 {CARD}", msgid="S1")))
    assert evidence(out)["bank_cards"] == ["*" * 12 + CARD[-4:]] and CARD[:8] not in out["evidence"][0]
    assert kinds(f"卡号 {BAD_CARD}") == []  # Luhn-invalid 16-digit number
    assert kinds(f"快递单号 {CARD}") == []  # no card keyword
    gap = "的事情之后再说先把这个编号记一下吧谢谢你"  # 20 characters between the keyword and the number
    assert kinds(f"银行卡{gap}{CARD}") == ["bank_card"]
    assert kinds(f"银行卡{gap}啊{CARD}") == []  # 21


def test_three_distinct_mobiles_fire_two_do_not():
    three = "联系人：13812345678、13987654321，备用 +86 150 1234 5678"
    out = run("CHAT-04", messages(msg(three, msgid="S1")))
    ev = evidence(out)
    assert ev["kinds"] == ["mobiles"] and ev["mobile_count"] == 3
    assert all(m.startswith("*******") for m in ev["mobiles"]) and "1381234" not in out["evidence"][0]
    assert kinds("13812345678 13987654321 15012345678") == ["mobiles"]  # space-separated list
    assert kinds("13812345678、13812345678、13987654321") == []  # only 2 distinct
    assert kinds("电话 13812345678 或 13987654321") == []
    assert kinds("座机 021-12345678、010-87654321、0755-1234567") == []


def test_confidentiality_markers_normalised_with_allow_list():
    out = run("CHAT-04", messages(msg("这份是機密文件，不要转发", msgid="S1")))
    ev = evidence(out)
    assert ev["kinds"] == ["confidential"] and ev["markers"][0]["term"] == "机密"
    assert kinds("附件：2026 客户 名单.xlsx") == ["confidential"]
    assert kinds("注意信息的机密性和完整性") == []


def test_several_kinds_in_one_message_and_markers_off():
    assert kinds(f"绝密：工资卡{CARD}，身份证{ID}") == ["id_number", "bank_card", "confidential"]
    params = POLICY.params("CHAT-04").model_copy(update={"confidentiality_markers": []})
    assert run("CHAT-04", messages(msg("绝密")), params=params).height == 0
