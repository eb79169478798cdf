"""Smoke test: the whole Definitions object loads and has what ops expect to see in the UI."""


import dagster as dg

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


def test_definitions_snapshot():
    """Every asset, check, job, schedule and sensor with group, kinds, owners and partitions; an
    intended change is reviewed as a diff of tests/snapshots/definitions.txt."""
    import os
    from pathlib import Path

    from tests.definitions_snapshot import snapshot
    from wxpipeline.definitions import defs

    path = Path(__file__).parent / "snapshots" / "definitions.txt"
    now = snapshot(defs)
    if os.environ.get("WXPIPELINE_UPDATE_SNAPSHOT") == "1":
        path.write_text(now, "utf-8")
    assert now == path.read_text("utf-8"), (
        "the definitions changed: review the diff, then rerun with WXPIPELINE_UPDATE_SNAPSHOT=1")


def test_secrets_never_reach_the_ui(monkeypatch, tmp_path):
    """A password in WXPIPELINE_DATABASE_URL or the robot's key: the resources carry dg.EnvVar, so
    the repository snapshot the UI renders names the variable, never the value."""
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value

    from wxpipeline.definitions import build_defs
    from wxpipeline.resources import open_resource

    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path))
    monkeypatch.setenv("WXPIPELINE_DATABASE_URL", "postgresql+psycopg2://wx:pw-s3cret@db.internal/wxfindings")
    monkeypatch.setenv("WXPIPELINE_WECOM_WEBHOOK", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y-s3cret")
    ui = serialize_value(RepositorySnap.from_def(build_defs().get_repository_def()))
    assert "WXPIPELINE_DATABASE_URL" in ui and "WXPIPELINE_WECOM_WEBHOOK" in ui
    assert "pw-s3cret" not in ui and "k3y-s3cret" not in ui
    # resolved only where it is used
    assert open_resource("warehouse").database_url.endswith("pw-s3cret@db.internal/wxfindings")


def test_staged_tables_carry_parser_version_and_columns():
    """A parser change marks its staged tables changed (code_version); the UI lists their columns."""
    from wxpipeline.definitions import defs
    from wxpipeline.formats.registry import EXPORT_KINDS
    from wxpipeline.formats.schemas import export_schema

    from wxpipeline.lineage import DERIVED, REFERENCE_KINDS, STAGED

    graph = defs.get_repository_def().asset_graph
    staged = [dg.AssetKey(name) for name in [*STAGED, *DERIVED, *REFERENCE_KINDS]]
    for key in staged:
        meta = graph.get(key).metadata
        assert "dagster/column_schema" in meta, f"{key} has no column schema"
        kind = meta.get("export_kind")
        if kind is not None:
            assert graph.get(key).code_version == f"parser-v{EXPORT_KINDS[kind].version}"
            assert [c.name for c in meta["dagster/column_schema"].columns] == list(export_schema(kind))
