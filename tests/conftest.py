"""Every test process sees the same daily partitions, whatever WXPIPELINE_HOME holds: the
definitions are built once per process, at import."""

import os

os.environ.setdefault("WXPIPELINE_PARTITIONS_START", "2025-01-01")
