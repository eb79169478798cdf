"""Great Expectations without the imports our contracts never use, until something uses them.

`import great_expectations` loads every core expectation, and one of them (the KL-divergence
expectation; the KS-test metrics likewise) imports `scipy.stats` and `altair` at module level
for use inside its methods: ~1.5 of the ~3 CPU seconds of the import, paid by every process that
validates a contract (the reference run of each `wxpipeline run`, its stage helper). Our
contracts use neither (contracts.py: not-null, unique, sets, ranges, pairs). Here those two
modules are entered in `sys.modules` as stand-ins that import the real module on first
attribute access and hand on every attribute: an expectation that does use them still works,
it only pays the import then.

Installed only by `wxpipeline run` and `nightly` (cli_nightly.py, stage_pool.py), before
Great Expectations is imported; a module already imported is left as it is.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

DEFERRED = ("scipy.stats", "altair")
_LOCK = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in for a module not imported yet; the first attribute read imports it."""

    def __getattr__(self, attr: str):
        # only attributes the stand-in lacks reach here (its __name__, __spec__ ... do not)
        with _LOCK:
            name = self.__name__
            if sys.modules.get(name) is self:
                del sys.modules[name]  # the real import must not find the stand-in
            real = importlib.import_module(name)
        return getattr(real, attr)


def defer_unused_ge_imports() -> None:
    """Enter the stand-ins (idempotent; a module already imported stays)."""
    with _LOCK:
        for name in DEFERRED:
            if name not in sys.modules:
                sys.modules[name] = _Deferred(name)
