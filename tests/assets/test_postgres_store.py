"""The payments domain against a PostgreSQL findings store: the same code, only the URL differs.

Runs when WXPIPELINE_TEST_POSTGRES_URL names a server (`.ci/run` starts one); skips otherwise.
"""


import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.assets.payments import payments_assets, payments_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.store.tables import Case, Finding

from ..scratch_postgres import PG, scratch_database
from .conftest import materialize_day, stage
from .exports_fixture import write_exports
from wxpipeline.store import cases as case_store

pytestmark = pytest.mark.skipif(not PG, reason="WXPIPELINE_TEST_POSTGRES_URL not set (no PostgreSQL server)")


@pytest.fixture()
def pg_url(isolated_home, monkeypatch):
    with scratch_database() as url:
        monkeypatch.setenv("WXPIPELINE_DATABASE_URL", url)
        write_exports(isolated_home / "exports", bad_line=True)
        yield url


def materialize(day):
    # the neighbouring days PAY-04 reconciles against, staged first (as `run` and the sensor do)
    stage([*reference_assets, *payments_assets], "2026-09-22", "2026-09-23", "2026-09-24")
    return materialize_day([*reference_assets, *payments_assets, *reference_checks, *payments_checks], day)

def test_postgres_store_is_idempotent_and_keeps_triage(pg_url):
    assert materialize("2026-09-22").success
    wh = warehouse()
    assert wh.database_url.startswith("postgresql")
    with wh.session() as s:
        rows = sorted((f.clause_id, f.subject_id) for f in s.exec(select(Finding)).scalars())
        fp = s.exec(select(Finding.fingerprint).where(Finding.clause_id == "PAY-02")).scalars().one()
    assert rows == [("PAY-02", "T101"), ("PAY-03", "T300")]
    case_store.set_case_status(wh, fp, "false_positive", "taxi home after overtime, approved", "auditor")
    assert materialize("2026-09-22").success
    with wh.session() as s:
        assert sorted((f.clause_id, f.subject_id) for f in s.exec(select(Finding)).scalars()) == rows
        assert s.get(Case, fp).status == "false_positive"
