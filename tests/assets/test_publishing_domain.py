"""In-process materialization of the publishing domain on a small exports folder."""

import polars as pl
import pytest
from sqlalchemy import select

from wxpipeline.resources import warehouse
from wxpipeline.assets.publishing import publishing_assets, publishing_checks
from wxpipeline.assets.reference import reference_assets, reference_checks
from wxpipeline.store.tables import Finding, QuarantineRecord
from wxpipeline.settings import settings

from .conftest import materialize_day, stage
from .publishing_fixture import write_publishing_exports


@pytest.fixture()
def env(isolated_home, tmp_path):
    write_publishing_exports(tmp_path / "exports")
    return tmp_path


def materialize(day: str):
    # sign-offs are made on the days before publishing: stage them first (as `run` and the sensor do)
    stage([*publishing_assets], *(f"2026-09-{d}" for d in range(19, 26)))
    return materialize_day([*reference_assets, *publishing_assets, *reference_checks, *publishing_checks], day)

def findings(day=None):
    with warehouse().session() as s:
        rows = s.exec(select(Finding)).scalars()
        return sorted((f.clause_id, f.subject_id, str(f.partition_date)) for f in rows
                      if day is None or str(f.partition_date) == day)


def test_publish_day_and_next_day(env):
    result = materialize("2026-09-24")
    assert result.success
    assert findings() == [
        ("PUB-01", "A3", "2026-09-24"), ("PUB-02", "A3", "2026-09-24"), ("PUB-04", "A4", "2026-09-24"),
        ("PUB-05", "A4", "2026-09-24"), ("PUB-06", "A3", "2026-09-24"),
    ]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["mp_articles_contract"] and checks["mp_signoffs_contract"]
    assert [checks[f"PUB_0{i}"] for i in range(1, 7)] == [False, False, True, False, False, False]
    staged = pl.read_parquet(settings().staged_dir / "mp_articles" / "2026-09-24.parquet")
    assert sorted(staged.select("article_id", "idx").rows()) == [("A1", 1), ("A2", 1), ("A3", 1), ("A4", 1), ("A4", 2)]
    with warehouse().session() as s:
        reasons = sorted(q.reason.split(":")[0] for q in s.exec(select(QuarantineRecord)).scalars())
    assert reasons == ["draft DRAFT1 #1", "flags"]  # the draft in the folder, the bad flag in the CSV

    # the expedited article's missing GM report is certain only once its publish day is over
    result = materialize("2026-09-25")
    assert result.success
    assert findings("2026-09-25") == [("PUB-03", "A2", "2026-09-25")]

    review = pl.read_parquet(settings().staged_dir / "publishing_quarterly_review.parquet")
    row = review.row(0, named=True)
    assert (row["quarter"], row["articles_published"], row["findings_total"], row["findings_PUB-03"]) == (
        "2026Q3", 4, 6, 1)
    assert row["open_articles"] == ["A2", "A3", "A4"] and row["median_draft_to_publish_hours"] == 97.0
    mats = [m for m in result.get_asset_materialization_events()
            if m.event_specific_data.materialization.asset_key.path[-1] == "publishing_quarterly_review"]
    md = mats[0].event_specific_data.materialization.metadata
    assert md["articles_with_open_findings"].value == 3 and md["findings_PUB_06"].value == 1
    assert "2026Q3" in md["quarters"].value
