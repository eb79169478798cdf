"""The policy resource: which policy files judge which day."""

from __future__ import annotations

from datetime import date

import dagster as dg

from wxpipeline.policy import PolicySet, PolicyVersion, load_policy


class PolicyResource(dg.ConfigurableResource):
    """Policy files at WXPIPELINE_POLICY (a file or a folder of versions; default: the packaged
    policy). Each partition day is judged by the version in effect that day."""

    location: str = ""

    def policies(self) -> PolicySet:
        return load_policy(self.location or None)

    def for_day(self, day: date) -> PolicyVersion:
        return self.policies().for_day(day)
