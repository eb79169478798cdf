"""The graph tells the truth: exports → staged → findings with policy-width partition mappings,
the sensor's inversion of them, and reads outside the declared window refused."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from wxpipeline.lineage import Upstream, compute_reads, dependents, reads
from wxpipeline.policy import load_policy


def test_findings_depend_on_the_staged_days_they_read():
    from wxpipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    pay = graph.get(dg.AssetKey("payments_findings"))
    mapping = pay.partition_mappings[dg.AssetKey("pay_bills")]
    width = load_policy().versions[0].windows.payment_match_days
    assert isinstance(mapping, dg.TimeWindowPartitionMapping)
    assert (mapping.start_offset, mapping.end_offset) == (-width, width)
    chat = graph.get(dg.AssetKey("chat_findings"))
    assert chat.partition_mappings[dg.AssetKey("wecom_messages")].start_offset <= -1  # CHAT-06/07 look-back
    # exports are external assets upstream of the staged tables
    assert dg.AssetKey(["exports", "wecom_archive"]) in graph.get(dg.AssetKey("wecom_messages")).parent_keys
    assert dg.AssetKey(["exports", "wecom_groups"]) in graph.get(dg.AssetKey("wecom_group_members")).parent_keys
    assert not graph.get(dg.AssetKey(["exports", "ledger"])).is_materializable


def test_widths_follow_the_policy():
    pv = load_policy().versions[0]
    narrow = pv.model_copy(update={"windows": pv.windows.model_copy(update={"payment_match_days": 2})})
    assert compute_reads([narrow])["payments_findings"]["ledger_entries"] == (-2, 2)


def test_a_changed_day_rejudges_the_days_whose_windows_hold_it():
    table = {"t": {"s": (-2, 2)}, "f": {"t": (0, 0), "s": (-1, 0)}}
    out = dependents({"s": {date(2026, 10, 10)}}, table)
    assert out["t"] == {date(2026, 10, d) for d in range(8, 13)}
    assert out["f"] == out["t"]  # through the timeline, transitively


def test_reads_outside_the_declared_window_are_refused(tmp_path):
    from wxpipeline.resources.staged_io import StagedStore

    up = Upstream("payments_findings", date(2026, 10, 10), StagedStore(tmp_path))
    width = reads()["payments_findings"]["pay_bills"][1]
    start = datetime(2026, 10, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert up.window("pay_bills", start - timedelta(days=width), start).collect().height == 0  # declared, not staged
    with pytest.raises(LookupError, match="outside its declared partitions"):
        up.window("pay_bills", start - timedelta(days=width + 1), start)
    with pytest.raises(LookupError, match="without declaring"):
        up.window("wecom_messages", start, start + timedelta(days=1))
