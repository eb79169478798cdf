"""Factories the domain modules under `wxpipeline/assets/` build their assets and checks with."""

OWNERS = ["team:compliance"]
