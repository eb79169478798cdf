"""Every test process sees the same daily partitions, whatever WXPIPELINE_HOME holds: the
definitions are built once per process, at import."""

import os

os.environ.setdefault("WXPIPELINE_PARTITIONS_START", "2025-01-01")


import pytest  # noqa: E402


@pytest.fixture()
def isolated_home(tmp_path, monkeypatch):
    """WXPIPELINE_HOME and the exports folder under tmp_path; default database and policy; no robot."""
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(tmp_path / "exports"))
    for var in ("WXPIPELINE_DATABASE_URL", "WXPIPELINE_POLICY", "WXPIPELINE_WECOM_WEBHOOK"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
