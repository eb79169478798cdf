"""Smoke test: the whole Definitions object loads and has what ops expect to see in the UI."""


from wxpipeline.checks.registry import CLAUSES, load_all


def test_definitions_load_with_one_check_per_clause():
    from wxpipeline.definitions import defs

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"pay_bills", "ledger_entries", "payments_findings", "roster", "pay_accounts"} <= keys
    check_names = {ck.name for ck in graph.asset_check_keys}
    load_all()
    for cid in CLAUSES:
        assert cid.replace("-", "_") in check_names, f"no asset check for {cid}"
    assert "pay_bills_contract" in check_names
    job = repo.get_job("daily_audit")
    assert job.partitions_def is not None
    schedule = repo.get_schedule_def("nightly_audit")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Shanghai"


def test_assets_carry_ops_metadata():
    from wxpipeline.definitions import defs

    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key} has no description"
        assert node.group_name and node.group_name != "default", f"{key} has no group"
        assert node.owners, f"{key} has no owners"
        assert node.kinds, f"{key} has no kinds"
