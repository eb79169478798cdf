"""CHAT-05 abusive language (abuse list, normalised, allow list)."""

import pytest

from .chat_frames import evidence, messages, msg, run, subjects


@pytest.mark.parametrize("text,term", [
    ("你这个傻逼，方案都看不懂", "傻逼"),
    ("真是个蠢 货", "蠢货"),
    ("王八蛋！", "王八蛋"),
    ("滾蛋，别在群里说话", "滚蛋"),  # traditional
    ("你就是个废*物", "废物"),
    ("白😀痴", "白痴"),
])
def test_insults_fire_including_evasions(text, term):
    out = run("CHAT-05", messages(msg(text, msgid="B1")))
    assert subjects(out) == ["B1"], text
    assert [h["term"] for h in evidence(out)["hits"]] == [term]
    assert "辱骂" in out["summary"][0]


@pytest.mark.parametrize("text", [
    "固体废物处理合同已经签了",
    "周围神经病变的患者报告",
    "中午去吃羊杂碎",
    "注意清扫卫生去死角",
    "收到，辛苦了",
])
def test_near_misses(text):
    assert run("CHAT-05", messages(msg(text))).height == 0, text


def test_one_to_one_message_fires_with_sender():
    out = run("CHAT-05", messages(msg("神经病吧你", room=None, sender="lina", msgid="B2")))
    assert out.select("subject_id", "employee_id", "group_id").rows() == [("B2", "E0007", None)]
