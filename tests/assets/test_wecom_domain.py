"""In-process materialization of the WeCom staged tables and the membership timeline."""

from datetime import datetime

import polars as pl
import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.assets.wecom import wecom_assets, wecom_checks
from wxpipeline.store.tables import QuarantineRecord
from wxpipeline.settings import settings

from .conftest import materialize_day, stage
from .wecom_fixture import ROOM, SH, write_wecom_exports


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_wecom_exports(tmp_path / "exports")
    return tmp_path


def materialize(day: str):
    stage(wecom_assets, "2026-10-11", "2026-10-12", "2026-10-13")  # the timeline reads the days around
    return materialize_day([*wecom_assets, *wecom_checks], day)

def staged(name: str, day: str) -> pl.DataFrame:
    return pl.read_parquet(settings().staged_dir / name / f"{day}.parquet")


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 10, day, hh, mm, tzinfo=SH)


def test_day_stages_every_valid_record_once_and_quarantines_bad_lines(env):
    result = materialize("2026-10-12")
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"wecom_messages_contract": True, "wecom_groups_contract": True,
                      "wecom_group_members_contract": True, "wecom_group_events_contract": True}
    # evaluated in the table's own step (no step per contract), against the staged file it wrote
    ev = next(e for e in result.get_asset_check_evaluations() if e.check_name == "wecom_messages_contract")
    assert ev.metadata["rows"].value == 6 and ev.metadata["seconds"].value >= 0
    # staging decided the surviving rows by msgid (M3..M5, M8 re-sent): the contract takes that proof
    assert ev.metadata["unique_key_proven_by"].value == "staging"
    steps = {e.step_key for e in result.all_events if e.is_step_success}
    assert "wecom_messages" in steps and not any(s.endswith("_contract") for s in steps)
    msgs = staged("wecom_messages", "2026-10-12")
    assert sorted(msgs["msgid"]) == ["M1", "M2", "M3", "M4", "M5", "M8"]  # M3..M5, M8 re-sent: once
    text = dict(zip(msgs["msgid"], msgs["text"]))
    assert text["M2"] == "请看附件"  # mixed: the text item, not the image
    assert text["M3"] == "季度会议通知\n周五下午三点"  # link: title and description
    assert text["M4"] == "群聊的聊天记录\n第一句\n第二句"  # chatrecord: title and its text items
    assert msgs.filter(pl.col("msgid") == "M8")["roomid"].item() is None

    with warehouse().session() as s:
        q = sorted((r.source, r.file.rsplit("/", 1)[-1], r.line, r.reason.split(":")[0])
                   for r in s.exec(select(QuarantineRecord)).scalars())
    assert q == [("wecom_archive", "a.jsonl", 6, "not a valid JSON record"), ("wecom_archive", "a.jsonl", 7, "msgid missing")]

    events = staged("wecom_group_events", "2026-10-12")
    assert events.select("update_detail", "members").rows() == [("add_member", ["wangfang"])]  # sent twice
    assert staged("wecom_group_members", "2026-10-12")["userid"].to_list() == ["zhangwei", "wangfang"]
    assert staged("wecom_groups", "2026-10-12")["member_count"].to_list() == [2]

    tl = staged("wecom_membership_timeline", "2026-10-12")
    rows = tl.select("userid", "joined_at", "join_source", "left_at", "left_source", "group_nickname").rows()
    assert rows == [
        ("lina", at(1, 9, 5), "snapshot", at(12, 23, 30), "snapshot", "李娜-经理"),  # del event lost
        ("wangfang", at(12, 10), "snapshot", None, None, "王芳-出纳"),
        ("zhangwei", at(1, 9), "snapshot", None, None, "张伟-会计"),
    ]
    assert set(tl["group_id"]) == {ROOM}


def test_next_day_takes_the_records_past_midnight_and_the_visitor_seen_only_in_events(env):
    assert materialize("2026-10-13").success
    assert sorted(staged("wecom_messages", "2026-10-13")["msgid"]) == ["M10", "M11", "M9"]
    assert staged("wecom_messages", "2026-10-13").filter(pl.col("msgid") == "M10")["text"].item() == "周报"
    tl = staged("wecom_membership_timeline", "2026-10-13")
    assert tl.select("userid", "joined_at", "join_source", "left_at", "left_source").rows() == [
        ("guest", at(13, 11), "event", at(13, 11, 30), "event"),
        ("wangfang", at(12, 10), "snapshot", None, None),
        ("zhangwei", at(1, 9), "snapshot", None, None),
    ]
    assert tl.filter(pl.col("userid") == "zhangwei")["group_nickname"].item() == "张伟-财务主管"


def test_rerun_is_idempotent(env):
    materialize("2026-10-12")
    first = staged("wecom_messages", "2026-10-12")
    assert materialize("2026-10-12").success
    assert staged("wecom_messages", "2026-10-12").equals(first)
    with warehouse().session() as s:
        assert len(list(s.exec(select(QuarantineRecord)).scalars())) == 2


def test_broken_contract_blocks_the_timeline(env, monkeypatch):
    from wxpipeline.checks import contracts

    stage(wecom_assets, "2026-10-11", "2026-10-13")  # the days around, staged under the real contract
    c = contracts.CONTRACTS["wecom_group_members"]
    monkeypatch.setitem(contracts.CONTRACTS, "wecom_group_members",
                        contracts.Contract(c.table, c.schema, value_sets={"userid": ("nobody",)}))
    result = materialize_day([*wecom_assets, *wecom_checks], "2026-10-12")
    evals = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evals["wecom_group_members_contract"] is False
    done = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "wecom_messages" in done and "wecom_membership_timeline" not in done
