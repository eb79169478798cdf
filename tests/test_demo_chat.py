"""The demo's message clauses: every CHAT / ACC clause planted, and the rules find exactly the
planted subjects over the whole demo period (the rules run on the parsed demo exports directly,
without Dagster; the domain test covers the asset)."""

from __future__ import annotations

from datetime import date, timedelta
import polars as pl
import pytest

from wxpipeline.checks.chat_01_03_05_content import prepare_messages, term_candidates
from wxpipeline.checks.chat_06_07_replies import EARLIER_COLUMNS, MEMBER_COLUMNS, group_records
from wxpipeline.checks.registry import CLAUSES, clauses_for
from wxpipeline.checks.wordlists import find_terms, load_word_lists
from wxpipeline.demo import write_demo
from wxpipeline.demo.wecom_text import corpus
from wxpipeline.derive.membership import membership_timeline
from wxpipeline.formats.reference import parse_roster
from wxpipeline.formats.wecom_archive import parse_wecom_archive
from wxpipeline.formats.wecom_events import parse_wecom_group_events
from wxpipeline.formats.wecom_groups import parse_wecom_group_members, parse_wecom_groups
from wxpipeline.policy import load_policy

CHAT = [c.id for c in clauses_for("chat")]


def _concat(paths, parse) -> pl.DataFrame:
    return pl.concat([parse(p).frame for p in paths], how="vertical_relaxed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    summary = write_demo(root)
    return root, summary


@pytest.fixture(scope="module")
def archive(demo) -> pl.DataFrame:
    files = sorted((demo[0] / "wecom_archive").glob("*.jsonl"))
    return _concat(files, parse_wecom_archive).unique("msgid", keep="last")


@pytest.fixture(scope="module")
def found(demo, archive) -> dict[str, set[str]]:
    root, summary = demo
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    msgs = archive
    snaps = sorted((root / "wecom_groups").glob("*.json"))
    members, groups = _concat(snaps, parse_wecom_group_members), _concat(snaps, parse_wecom_groups)
    events = _concat(sorted((root / "wecom_group_events").iterdir()), parse_wecom_group_events).unique(
        ["group_id", "event_time", "change_type", "update_detail"])
    roster = parse_roster(root / "reference/roster.csv").frame
    policy = load_policy().for_day(end)
    messages = prepare_messages(msgs)
    mention_days = sorted(set(messages.filter(pl.col("roomid").is_not_null() & pl.col("text").str.contains("@"))
                              ["sent_at"].dt.date().to_list()))
    timeline = pl.concat([membership_timeline(members, groups, events, d).select(MEMBER_COLUMNS)
                          for d in mention_days])
    frames = {
        "messages": messages, "members": timeline,
        "group_messages": group_records(messages, messages.select(EARLIER_COLUMNS)),
        "leaver_history": messages.select("sender", "sent_at", "msgid"), "roster": roster,
        "word_lists": load_word_lists(policy), "term_candidates": term_candidates(messages, load_word_lists(policy)),
    }
    out: dict[str, set[str]] = {c: set() for c in CHAT}
    d = start
    while d <= end:
        for c in CHAT:
            out[c] |= set(CLAUSES[c].run(frames, policy.params(c), d)["subject_id"])
        d += timedelta(days=1)
    FRAMES.update(frames, policy=policy, start=start, end=end)
    return out


FRAMES: dict = {}  # the frames `found` judged, for the pre-filter's equivalence test


def test_message_rules_find_the_same_on_the_rows_the_prefilter_keeps(found):
    """The chat asset keeps only `rules_may_read`'s rows of a day: every message rule (and the
    leaver look-up's senders) gives exactly the findings it gives over every message."""
    from wxpipeline.checks.acc_01_leaver_accounts import departed_accounts
    from wxpipeline.checks.chat_prefilter import rules_may_read, term_patterns

    policy, messages, roster, lists = FRAMES["policy"], FRAMES["messages"], FRAMES["roster"], FRAMES["word_lists"]
    content = ["CHAT-01", "CHAT-02", "CHAT-03", "CHAT-04", "CHAT-05", "ACC-01"]
    d, judged = FRAMES["start"], 0
    while d <= FRAMES["end"]:
        keep = rules_may_read(messages.columns, terms=term_patterns(lists),
                              departed=departed_accounts(roster, d)["userid"],
                              patterns=policy.params("CHAT-02").patterns, sensitive=policy.params("CHAT-04"))
        kept = messages.filter(keep)
        assert 0 < kept.height < messages.height
        small = {**FRAMES, "messages": kept, "term_candidates": term_candidates(kept, lists)}
        for c in content:
            whole = CLAUSES[c].run(FRAMES, policy.params(c), d)
            assert CLAUSES[c].run(small, policy.params(c), d).equals(whole), (c, d)
            judged += whole.height
        d += timedelta(days=1)
    assert judged > 0



@pytest.mark.parametrize("collide", [False, True])
def test_kept_messages_normalising_distinct_texts_is_the_direct_path(found, monkeypatch, collide):
    """The asset normalises and tests each distinct text of a slice once (`kept_messages`): the
    same rows, order and `text_norm` as normalising every row; with every hash colliding (texts
    keyed by their length) it falls back to the direct path."""
    from wxpipeline.checks import chat_prefilter as P
    from wxpipeline.checks.acc_01_leaver_accounts import departed_accounts

    policy, roster, lists = FRAMES["policy"], FRAMES["roster"], FRAMES["word_lists"]
    messages = FRAMES["messages"].drop("text_norm")
    assert messages["text"].n_unique() < messages.height  # the demo's texts repeat
    text_test = P.text_may_be_read(terms=P.term_patterns(lists), patterns=policy.params("CHAT-02").patterns,
                                   sensitive=policy.params("CHAT-04"))
    record_test = P.record_may_be_read(messages.columns, departed=departed_accounts(roster, FRAMES["end"])["userid"])
    direct = P.kept_messages(messages, text_test=text_test, record_test=record_test, distinct=False)
    assert 0 < direct.height < messages.height
    assert direct.equals(prepare_messages(messages).filter(P.rules_may_read(
        [*messages.columns, "text_norm"], terms=P.term_patterns(lists), patterns=policy.params("CHAT-02").patterns,
        sensitive=policy.params("CHAT-04"), departed=departed_accounts(roster, FRAMES["end"])["userid"])))
    normalised: list[int] = []
    real_normalise = P.normalise
    monkeypatch.setattr(P, "normalise", lambda s: normalised.append(s.len()) or real_normalise(s))
    if collide:
        monkeypatch.setattr(P, "_text_keys", lambda texts: texts.str.len_bytes().cast(pl.UInt64))
    assert P.texts_repeat(messages["text"])
    assert P.kept_messages(messages, text_test=text_test, record_test=record_test).equals(direct)
    distinct = messages["text"].n_unique()
    # colliding: found by counting the distinct texts, before any is normalised; the direct path
    # (prepare_messages) for the slice
    assert normalised == ([] if collide else [distinct])


def test_slices_sharing_their_texts_are_the_direct_path(found, monkeypatch):
    """The asset's slices share the texts they normalised (`TextVerdicts`): each text is normalised
    once a day, the rows are those of the direct path, and a text whose hash another slice's text
    had (every text keyed alike below) is normalised and tested on its own."""
    from wxpipeline.checks import chat_prefilter as P
    from wxpipeline.checks.acc_01_leaver_accounts import departed_accounts

    policy, roster, lists = FRAMES["policy"], FRAMES["roster"], FRAMES["word_lists"]
    messages = FRAMES["messages"].drop("text_norm")
    text_test = P.text_may_be_read(terms=P.term_patterns(lists), patterns=policy.params("CHAT-02").patterns,
                                   sensitive=policy.params("CHAT-04"))
    record_test = P.record_may_be_read(messages.columns, departed=departed_accounts(roster, FRAMES["end"])["userid"])
    args = dict(text_test=text_test, record_test=record_test)
    normalised: list[int] = []
    real_normalise = P.normalise
    monkeypatch.setattr(P, "normalise", lambda s: normalised.append(s.len()) or real_normalise(s))
    known, step = P.TextVerdicts(), messages.height // 3 + 1
    slices = [messages.slice(i, step) for i in range(0, messages.height, step)]
    shared = pl.concat([P.kept_messages(m, distinct=True, known=known, **args) for m in slices])
    assert shared.equals(P.kept_messages(messages, distinct=False, **args))
    assert len(normalised) == 3 and sum(normalised) == messages["text"].n_unique() < sum(m["text"].n_unique()
                                                                                           for m in slices)
    # one text a slice, both with key 0: the second slice's text is not taken for the first's
    kept = P.kept_messages(messages, distinct=False, **args)
    one = messages.filter(pl.col("text") == kept.filter(text_test)["text"][0])
    other = messages.filter(~pl.col("msgid").is_in(kept["msgid"].implode()) & pl.col("text").is_not_null())
    other = other.filter(pl.col("text") == other["text"][0])
    assert one.height and other.height
    monkeypatch.setattr(P, "_text_keys", lambda texts: pl.zeros(texts.len(), pl.UInt64, eager=True))
    known = P.TextVerdicts()
    for m in (one, other, one):
        assert P.kept_messages(m, distinct=True, known=known, **args).equals(
            P.kept_messages(m, distinct=False, **args))


def test_text_tests_as_one_regex_keep_the_same_rows(found, monkeypatch):
    """`text_may_be_read` runs its tests as one alternation: the same rows as the tests one by one
    (over the demo's messages, with every clause's planted cases and near misses)."""
    from wxpipeline.checks import chat_prefilter as P

    policy, lists, messages = FRAMES["policy"], FRAMES["word_lists"], FRAMES["messages"]
    for patterns, sensitive in [(policy.params("CHAT-02").patterns, policy.params("CHAT-04")), (None, None)]:
        args = dict(terms=P.term_patterns(lists), patterns=patterns, sensitive=sensitive)
        one = messages.select(P.text_may_be_read(**args)).to_series()
        with monkeypatch.context() as m:
            m.setattr(P, "_one_regex", lambda *a: None)
            apart = messages.select(P.text_may_be_read(**args)).to_series()
        assert one.equals(apart) and 0 < one.sum() < messages.height

def test_group_records_taken_a_slice_at_a_time_are_the_same(found):
    from wxpipeline.checks.chat_06_07_replies import today_group_records, with_earlier_records

    messages = FRAMES["messages"]
    earlier = messages.head(500).select(EARLIER_COLUMNS)
    slices = pl.concat([today_group_records(messages.slice(i, 700)) for i in range(0, messages.height, 700)])
    whole = group_records(messages, earlier)
    assert group_records(slices, earlier).equals(whole)
    assert with_earlier_records(slices, earlier).equals(whole)  # the asset's path: the slices not taken again


def test_every_message_clause_planted_with_near_misses(demo):
    _, summary = demo
    for clause in CHAT:
        assert summary["planted"].get(clause), clause
    for clause in ("CHAT-01", "CHAT-02", "CHAT-03", "CHAT-04", "CHAT-05", "CHAT-06", "CHAT-07", "ACC-01"):
        assert summary["near_misses"].get(clause), clause
    assert len(summary["planted"]["ACC-01"]) == 1


def test_rules_find_exactly_the_planted_subjects(demo, found):
    _, summary = demo
    for clause in CHAT:
        assert found[clause] == set(summary["planted"][clause]), clause


def test_midnight_mention_lands_on_the_next_day(demo, archive):
    _, summary = demo
    late = archive.filter(pl.col("text").str.contains("付款单今晚确认") & (pl.col("sent_at").dt.hour() == 23))
    unanswered = {s.split("/")[0] for s in summary["planted"]["CHAT-06"]} & set(late["msgid"])
    assert len(late) == 2 and len(unanswered) == 1


def test_ordinary_chat_text_holds_no_message_list_term():
    texts = pl.DataFrame({"id": range(len(corpus())), "text": corpus()})
    lists = load_word_lists(load_policy().versions[0], ["advertising", "abuse", "allow", "allow_chat"])
    hits = find_terms(texts, text="text", word_lists=lists, categories=["advertising", "abuse"],
                      allow=["allow", "allow_chat"])
    assert hits.height == 0, hits
