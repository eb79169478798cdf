"""Dagster warnings that are about our deliberate use of its API, not about anything an operator
can act on: filtered once, by message, before any definition is built (the UI's code server and
the CLI import this through `wxpipeline.assets`)."""

import warnings

import dagster as dg

# (category, message regex): each one a feature wxpipeline relies on on purpose.
KNOWN = (
    # per-day clause checks: AssetCheckSpec / @asset_check with the asset's daily partitions
    (dg.PreviewWarning, r".*partitions_def on an AssetCheckSpec"),
    # one run per partition in backfills (README: Policy revisions and backfills)
    (dg.BetaWarning, r".*`backfill_policy`"),
    (DeprecationWarning, r".*`partitions_def` of function `define_asset_job`"),
    # findings read neighbouring days that may precede the first partition (lineage.py)
    (dg.BetaWarning, r".*`allow_nonexistent_upstream_partitions`"),
)


def silence_known_warnings() -> None:
    for category, message in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category)


def silence_all_dagster_warnings() -> None:
    """For the command line: nothing Dagster warns about reaches a compliance officer's terminal."""
    silence_known_warnings()
    for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("ignore", module=r"dagster(\..*)?$")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
