"""`run` stages, of a day around its period, only the staged tables the period's rules read there."""

from datetime import date, timedelta

from wxpipeline.lineage import STAGED
from wxpipeline.nightly import stage_assets_for_day

DAY = date(2026, 10, 12)
# what each consumer reads, as offsets from the judged day (a small stand-in for lineage.reads())
TABLE = {
    "chat_findings": {"wecom_messages": (-60, 0), "wecom_groups": (-15, 14)},
    "payments_findings": {"pay_bills": (-14, 14), "ledger_entries": (-14, 14)},
    "wecom_membership_timeline": {"wecom_group_events": (-14, 14)},
}


def test_a_judged_day_stages_every_table():
    assert stage_assets_for_day(DAY, DAY, DAY, TABLE) is None
    assert stage_assets_for_day(DAY + timedelta(days=2), DAY, DAY + timedelta(days=5), TABLE) is None


def test_a_day_around_the_period_stages_what_is_read_of_it():
    assert stage_assets_for_day(DAY - timedelta(days=30), DAY, DAY, TABLE) == ["wecom_messages"]
    assert stage_assets_for_day(DAY - timedelta(days=15), DAY, DAY, TABLE) == ["wecom_groups", "wecom_messages"]
    # near miss: one day beyond the look-back of the period's first day
    assert stage_assets_for_day(DAY - timedelta(days=61), DAY, DAY, TABLE) == []
    assert stage_assets_for_day(DAY - timedelta(days=61), DAY - timedelta(days=1), DAY, TABLE) == ["wecom_messages"]
    assert stage_assets_for_day(DAY + timedelta(days=1), DAY, DAY, TABLE) == [
        "ledger_entries", "pay_bills", "wecom_group_events", "wecom_groups"]
    assert stage_assets_for_day(DAY + timedelta(days=15), DAY, DAY, TABLE) == []


def test_the_real_lineage_stages_only_staged_tables():
    for k in range(-70, 20):
        got = stage_assets_for_day(DAY + timedelta(days=k), DAY, DAY)
        assert got is None or set(got) <= set(STAGED)


def test_a_day_around_the_period_skips_tables_without_records_never_staged(tmp_path):
    from wxpipeline.nightly import stage_assets_holding_records
    from wxpipeline.resources.staged_io import StagedStore

    store = StagedStore(tmp_path)
    before = DAY - timedelta(days=15)  # reads wecom_messages and wecom_groups there
    kind_days = {"wecom_archive": {before}, "wecom_groups": {DAY}}
    assert stage_assets_holding_records(before, DAY, DAY, kind_days, store, TABLE) == ["wecom_messages"]
    # near miss: a partition staged before is staged again (its records may have left the exports)
    store.path("wecom_groups", before.isoformat()).parent.mkdir(parents=True)
    store.path("wecom_groups", before.isoformat()).touch()
    assert stage_assets_holding_records(before, DAY, DAY, kind_days, store, TABLE) == ["wecom_groups", "wecom_messages"]
    # a day of the period stages every table, records or not
    assert stage_assets_holding_records(DAY, DAY, DAY, {}, store, TABLE) is None
    assert stage_assets_holding_records(DAY + timedelta(days=15), DAY, DAY, kind_days, store, TABLE) == []


def test_the_stage_run_with_the_most_export_bytes_is_taken_first():
    from wxpipeline.arrival import FileInfo
    from wxpipeline.nightly import longest_first

    d = lambda k: (DAY + timedelta(days=k)).isoformat()  # noqa: E731
    inv = {
        "a.jsonl": [FileInfo("wecom_archive", "a.jsonl", "9000:1", days=[d(1)])],
        # a file's bytes are shared among its record days: 1500 each
        "b.jsonl": [FileInfo("wecom_archive", "b.jsonl", "3000:1", days=[d(0), d(2)])],
        "c.csv": [FileInfo("wechat_pay", "c.csv", "1000:1", days=[d(2)])],
        "e.csv": [FileInfo("wechat_pay", "e.csv", "99999:1", days=[d(-5)])],
    }
    runs = [(f"stage {d(k)}", d(k), assets) for k, assets in
            ((-5, ["wecom_messages"]), (-1, ["wecom_messages"]), (0, None), (1, None), (2, None), (3, None))]
    got = [day for _, day, _ in longest_first(runs, inv)]
    # day -5 holds a large bill but stages only messages (none that day); equal volumes keep their order
    assert got == [d(1), d(2), d(0), d(-5), d(-1), d(3)]
    # near miss: staging its bills, day -5 goes first
    runs[0] = (runs[0][0], d(-5), ["pay_bills"])
    assert [day for _, day, _ in longest_first(runs, inv)][0] == d(-5)
