"""Policy sections about operation rather than clauses: the windows of other days a day's rules
read (they become the findings assets' partition mappings) and when each export kind is expected
to arrive (coverage: a day whose inputs have not arrived is "awaiting data", then "overdue")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Windows(_Strict):
    """Days of other partitions a day's rules read, beyond the windows clause parameters define
    (CHAT-06/07 reply windows, GRP-08 notice window, PUB-03 report deadline). Every width is
    bounded so a change to one day's inputs re-judges a bounded set of days."""

    # PAY-04 matches bills and ledger entries whatever their day: entries are booked days after
    # the payment (and a duplicate a week later); bills and entries further apart are not matched.
    payment_match_days: int = Field(14, ge=0, le=92)
    # wecom_membership_timeline: the snapshots and events either side of a day (derive/membership.py LOOKBACK)
    membership_days: int = Field(14, ge=1, le=60)
    # GRP-05 "first seen": earlier snapshots and group messages this far back (instead of all history)
    first_seen_days: int = Field(60, ge=1, le=366)
    # ACC-01 "first post-departure day": earlier messages of a leaver this far back
    leaver_history_days: int = Field(60, ge=1, le=366)
    # PUB: publications judged again on later days (PUB-03 lands after the publish day)
    publish_lookback_days: int = Field(7, ge=1, le=60)
    # PUB-01/02/04: sign-offs this far before the publish day count (drafts are submitted ahead)
    signoff_lookback_days: int = Field(60, ge=1, le=366)
    # a changed reference file (roster, registry, pay accounts/approvals) re-judges this many days back
    reference_rejudge_days: int = Field(30, ge=0, le=366)


Coverage = Literal["reaches_day_end", "snapshot_on_or_after", "per_pay_account", "none"]


class ArrivalExpectation(_Strict):
    """When a day's records of an export kind count as arrived, and how late they may be."""

    # reaches_day_end: some record at or after the end of the day (the archive pull passed it);
    # snapshot_on_or_after: a snapshot taken on or after the day; per_pay_account: for every pay
    # account registered that day, a bill export whose records reach the end of the day;
    # none: not expected (event-driven exports: publications, sign-offs, group events)
    coverage: Coverage = "none"
    tolerated_delay_days: int = Field(1, ge=0, le=366)  # then "overdue"
