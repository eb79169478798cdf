"""CHAT-01 prohibited content in messages (the CHAT-01 word lists, normalised, allow list)."""

import pytest

from .chat_frames import DAY, ROOM, evidence, members, messages, msg, run, stay, subjects


def test_a_term_fires_on_the_message_with_masked_evidence():
    m = msg("周末一起去赌场玩玩？", msgid="M1")
    out = run("CHAT-01", messages(m))
    assert subjects(out) == ["M1"]
    row = out.row(0, named=True)
    assert (row["partition_date"], row["employee_id"], row["group_id"]) == (DAY, "E0004", ROOM)
    h = evidence(out)["hits"][0]
    assert (h["category"], h["term"], h["offset"], h["length"], h["offset_basis"]) == (
        "gambling", "赌场", 5, 2, "original")
    assert "【赌*】" in h["snippet"] and "赌场" not in h["snippet"] and "赌场" not in row["summary"]
    assert "赌博" in row["summary"] and "张伟（zhangwei）" in row["summary"] and ROOM in row["summary"]
    # with the day's membership timeline the summary names the group
    out = run("CHAT-01", messages(m), stays=members(stay("zhangwei", "张伟-出纳")))
    assert "在群「财务部工作群」发送" in out["summary"][0]


@pytest.mark.parametrize("text,offset,length", [
    ("参与賭博", 2, 2), ("参与赌 博", 2, 3), ("参与赌*博", 2, 3), ("参与赌\u200b博", 2, 3), ("参与赌😀博", 2, 3),
    ("参与賭．博", 2, 3), ("参与赌\u3000\u3000博", 2, 4),
])
def test_traditional_characters_and_separators_inside_a_term(text, offset, length):
    out = run("CHAT-01", messages(msg(text)))
    assert [(h["term"], h["offset"], h["length"]) for h in evidence(out)["hits"]] == [("赌博", offset, length)]


def test_allow_list_phrase_suppresses_only_the_hit_it_contains():
    assert run("CHAT-01", messages(msg("这次升级真是个大麻烦。"), msg("禁毒宣传月：远离毒品，珍爱生命"))).height == 0
    out = run("CHAT-01", messages(msg("这是个大麻烦，他还带了大麻", msgid="M2")))
    assert subjects(out) == ["M2"] and [h["term"] for h in evidence(out)["hits"]] == ["大麻"]


def test_one_to_one_and_every_text_bearing_type_count():
    out = run("CHAT-01", messages(
        msg("冰毒", room=None, msgid="P1"),
        msg("链接标题\n出售仿真枪", msgtype="link", msgid="L1"),
        msg("文件：百家乐技巧.pdf", msgtype="file", msgid="F1"),
    ))
    assert sorted(subjects(out)) == ["F1", "L1", "P1"]
    groups = dict(zip(out["subject_id"], out["group_id"]))
    assert groups == {"P1": None, "L1": ROOM, "F1": ROOM}


def test_near_misses_other_days_recalls_and_switches():
    out = run("CHAT-01", messages(
        msg("收到，下午三点开会"),
        msg("员工表现出色情况良好"),  # 出色情况 crosses a word boundary: allow list
        msg("赌博", at="2026-10-11 23:59:59"),  # the day before: judged on its own day
        msg(None, action="recall", msgtype="revoke", revoked="x"),
        msg(None, action="switch", msgtype="switch", room=None),
    ))
    assert out.height == 0


def test_one_finding_per_message_with_every_hit():
    out = run("CHAT-01", messages(msg("赌博、冰毒和法轮功", msgid="M3")))
    assert subjects(out) == ["M3"]
    ev = evidence(out)
    assert ev["hit_count"] == 3 and set(ev["categories"]) == {"gambling", "drugs", "cult_superstition"}


def test_term_candidates_on_repeating_texts_are_term_rows_of_every_row():
    """`term_candidates` tests each distinct text once when the texts repeat (a busy day's): the
    same (msgid, category) rows as `term_rows` over every row (in no set order: `term_rows` joins
    without keeping it, and the rules read the frame with `is_in`)."""
    from wxpipeline.checks.chat_01_03_05_content import prepare_messages, term_candidates
    from wxpipeline.checks.wordlists import term_rows

    from .chat_frames import WORD_LISTS

    texts = ["周末一起去赌场玩玩？", "参与賭博", "今天开会", None, "加微信领红包", "好的"]
    msgs = prepare_messages(messages(*[msg(texts[i % len(texts)], msgid=f"M{i}") for i in range(60)]))
    want = term_rows(msgs.select("msgid", "text_norm"), key="msgid", normalised="text_norm", word_lists=WORD_LISTS)
    assert want.height >= 20  # the terms are found
    assert term_candidates(msgs, WORD_LISTS).sort("msgid", "category").equals(want.sort("msgid", "category"))
    assert term_candidates(msgs.head(0), WORD_LISTS).equals(want.head(0))
