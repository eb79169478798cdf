"""The daily partitions every partitioned asset shares, and how a day's runs are cut."""

from __future__ import annotations

from datetime import date

import dagster as dg

from wxpipeline.settings import settings
from wxpipeline.times import TZ_NAME

# The first day is recorded in WXPIPELINE_HOME/partitions_start by `wxpipeline demo` / `run` before
# they import the definitions (WXPIPELINE_PARTITIONS_START overrides it): a partitions definition
# is fixed when the code location loads, so it is read here, once.
DAILY = dg.DailyPartitionsDefinition(start_date=settings().partitions_start, timezone=TZ_NAME)
# One run per partition: Dagster records a partition's check results only from a run that covers
# exactly that partition, and each day then has its own run to inspect or re-execute.
ONE_RUN_PER_DAY = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def partition_day(context) -> date:
    return date.fromisoformat(context.partition_key)
