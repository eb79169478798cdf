"""The findings store as a Dagster resource: an engine and sessions, nothing else. Every query
lives in the store package (`wxpipeline.store`: findings, triage, cases, quarantine)."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine
from sqlmodel import Session

from wxpipeline.store.engine import engine_for


class Warehouse(dg.ConfigurableResource):
    """The findings store (findings, cases, case_events, waivers, quarantine) at
    WXPIPELINE_DATABASE_URL: SQLite under WXPIPELINE_HOME by default, PostgreSQL in production."""

    database_url: str

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    def session(self) -> Session:
        return Session(self.engine)
