"""The payments domain against a PostgreSQL findings store: the same code, only the URL differs.

Runs when WXPIPELINE_TEST_POSTGRES_URL names a server (`.ci/run` starts one); skips otherwise.
"""

import os
import uuid

import dagster as dg
import pytest
from sqlalchemy import create_engine, select, text

from wxpipeline.assets.common import pipeline_resources
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.resources import build_resources
from wxpipeline.resources.tables import Case, Finding

from .conftest import stage
from .exports_fixture import write_exports

PG = os.environ.get("WXPIPELINE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG, reason="WXPIPELINE_TEST_POSTGRES_URL not set (no PostgreSQL server)")


@pytest.fixture()
def pg_url(tmp_path, monkeypatch):
    db = f"wx_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {db}"))
    url = PG.rsplit("/", 1)[0] + f"/{db}"
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("WXPIPELINE_DATABASE_URL", url)
    monkeypatch.delenv("WXPIPELINE_POLICY", raising=False)
    write_exports(tmp_path / "exports", bad_line=True)
    yield url
    from wxpipeline.resources.warehouse import _engine

    _engine(url).dispose()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))


def materialize(day):
    # the neighbouring days PAY-04 reconciles against, staged first (as `run` and the sensor do)
    stage([*reference_assets, *payments_assets], "2026-09-22", "2026-09-23", "2026-09-24")
    resources = pipeline_resources()
    return dg.materialize([*reference_assets, *payments_assets, *reference_checks, *payments_checks],
                          partition_key=day, resources=resources, raise_on_error=False)


def test_postgres_store_is_idempotent_and_keeps_triage(pg_url):
    assert materialize("2026-09-22").success
    wh = build_resources()["warehouse"]
    assert wh.database_url.startswith("postgresql")
    with wh.session() as s:
        rows = sorted((f.clause_id, f.subject_id) for f in s.exec(select(Finding)).scalars())
        fp = s.exec(select(Finding.fingerprint).where(Finding.clause_id == "PAY-02")).scalars().one()
    assert rows == [("PAY-02", "T101"), ("PAY-03", "T300")]
    wh.set_case_status(fp, "false_positive", "taxi home after overtime, approved", "auditor")
    assert materialize("2026-09-22").success
    with wh.session() as s:
        assert sorted((f.clause_id, f.subject_id) for f in s.exec(select(Finding)).scalars()) == rows
        assert s.get(Case, fp).status == "false_positive"
