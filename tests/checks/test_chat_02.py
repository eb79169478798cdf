"""CHAT-02 advertising and solicitation: the advertising list plus the policy's patterns."""

import pytest

from .chat_frames import POLICY, evidence, messages, msg, run, subjects


def test_word_list_term_fires():
    out = run("CHAT-02", messages(msg("宝妈在家兼职，每天刷单返利，详情私聊", msgid="A1")))
    assert subjects(out) == ["A1"]
    ev = evidence(out)
    assert {h["term"] for h in ev["hits"]} >= {"刷单返利", "详情私聊", "在家兼职"}
    assert "广告/招揽" in out["summary"][0]


@pytest.mark.parametrize("text", [
    "想赚外快的加微信 abc_12345", "加我微信：wxid123456", "加 微 信 happy2026", "有意者加V：８８６６８８",
    "+vx: deal888", "加ｑ 12345678", "日结300，手机就能做", "月入过万不是梦", "扫码立即领红包", "诚招宝妈，时间自由",
])
def test_patterns_including_evasions(text):
    out = run("CHAT-02", messages(msg(text, msgid="A2")))
    assert subjects(out) == ["A2"], text
    assert any(h["category"] == "pattern" for h in evidence(out)["hits"])


def test_pattern_evidence_masks_numbers_and_names_the_pattern():
    out = run("CHAT-02", messages(msg("需要的加微信13812345678", msgid="A3")))
    h = [h for h in evidence(out)["hits"] if h["category"] == "pattern"][0]
    assert h["term"] == "加微信+账号" and h["offset"] == 3
    assert "1381234" not in out["evidence"][0] and "1381234" not in out["summary"][0]
    assert "加微信+账号" in out["summary"][0]


@pytest.mark.parametrize("text", [
    "我加了客户微信，晚点问一下",  # no id after 加微信
    "大家加微信群讨论吧",
    "请追加vpn权限",  # 加v + letters only
    "今日入库500件",  # 日入 not followed by a number
    "兼职员工的考勤另行通知",  # 兼职 alone is not a term
    "谨防刷单诈骗，不要轻信高额返利",  # anti-fraud reminder: allow list
    "供应商的报价已经收齐，明天比价",
])
def test_near_misses(text):
    assert run("CHAT-02", messages(msg(text))).height == 0, text


def test_invalid_pattern_is_a_policy_error():
    from pydantic import ValidationError

    model = type(POLICY.params("CHAT-02"))
    data = POLICY.params("CHAT-02").model_dump() | {"patterns": {"bad": "(unclosed"}}
    with pytest.raises(ValidationError, match="regular expression"):
        model.model_validate(data)


@pytest.mark.parametrize("text, term", [
    ("本人长期代购进口化妆品，需要的找我", "代购"),
    ("做微商的姐妹看过来，货源稳定", "微商"),
    ("有没有想找兼职的，私我", "找兼职"),
    ("兼职招人，手机就能做", "兼职"),
    ("招代理，零门槛", "招代理"),
    ("扫码领福利，先到先得", "扫码领"),
    ("下班搞副业，一个月多赚几千", "搞副业"),
])
def test_bare_solicitations_fire(text, term):
    out = run("CHAT-02", messages(msg(text, msgid="S1")))
    assert subjects(out) == ["S1"], text
    assert term in {h["term"] for h in evidence(out)["hits"]}


@pytest.mark.parametrize("text", [
    "兼职人员的劳务费本月一起报销",  # HR: part-time staff
    "公司规定员工不得兼职取酬，请如实申报外部兼职情况",
    "新上线的微商城下周开始试运营",  # the company's own WeChat store
    "请行政代购买一批办公用品，发票抬头写公司",
    "食堂今天开始扫码领餐",
    "警惕微商和代购类诈骗，谨防刷单",  # anti-fraud reminder
])
def test_work_phrases_with_solicitation_words_stay_clean(text):
    assert run("CHAT-02", messages(msg(text))).height == 0, text
