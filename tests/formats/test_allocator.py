"""The allocator setting `wxpipeline/__init__.py` makes for polars' jemalloc (a cost, not a
result: checked only to be in place when polars starts, and to leave a user's own alone)."""

import importlib
import os
import subprocess
import sys

import wxpipeline

PROBE = "import os, wxpipeline, polars; print(os.environ.get('_RJEM_MALLOC_CONF', ''))"


def test_decay_is_set_before_polars_starts():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    # jemalloc takes the last value of an option: ours must come after polars' own defaults
    assert out.stdout.strip().endswith(wxpipeline.RJEM_CONF)


def test_a_given_setting_is_kept(monkeypatch):
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:0")
    importlib.reload(wxpipeline)
    assert os.environ["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:0"


def test_jemalloc_takes_every_option():
    # jemalloc ignores an option it does not know, or a bad value, with only a warning on stderr
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    probe = "import wxpipeline, polars as pl; pl.Series(range(1000)).sum()"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert "jemalloc" not in out.stderr
