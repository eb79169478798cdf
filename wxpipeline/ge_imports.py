"""Great Expectations without the imports our contracts never use, until something uses them.

`import great_expectations` loads every core expectation, and one of them (the KL-divergence
expectation; the KS-test metrics likewise) imports `scipy.stats` and `altair` at module level
for use inside its methods: ~1.5 of the ~3 CPU seconds of the import, paid by every process that
validates a contract (the reference run of each `wxpipeline run`, its stage helper). Our
contracts use neither (contracts.py: not-null, unique, sets, ranges, pairs). Here those two
modules are entered in `sys.modules` as stand-ins that import the real module on first
attribute access and hand on every attribute: an expectation that does use them still works,
it only pays the import then.

Importing Great Expectations also creates ~370 pydantic v1 model classes (its expectations,
fluent datasources and their assets, checkpoint actions). pydantic v1 deep-copies the fields
of every base class into each subclass, through `copy`'s generic reduce/reconstruct path for
its slotted field objects: a third of the import. `copy_pydantic_v1_fields_faster` gives those
field objects a `__deepcopy__` that builds the same copy directly (every slot deep-copied into
the same memo, values `copy` treats as immutable kept as they are): the same fields, checked
against the generic copy for every model class GE defines (tests/test_ge_imports.py), for
~0.3 CPU s less per process.

Installed only by `wxpipeline run` and `nightly` (cli_nightly.py, stage_pool.py), before
Great Expectations is imported; a module already imported is left as it is.
"""

from __future__ import annotations

import copy
import copyreg
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
    """Enter the stand-ins (idempotent; a module already imported stays), and copy pydantic v1's
    field objects without `copy`'s generic path (`copy_pydantic_v1_fields_faster`)."""
    with _LOCK:
        for name in DEFERRED:
            if name not in sys.modules:
                sys.modules[name] = _Deferred(name)
    copy_pydantic_v1_fields_faster()


def _slots_deepcopy(self, memo):
    """What `copy.deepcopy` makes of a slotted object without `__deepcopy__` (`_reconstruct`
    from `object.__reduce_ex__(4)`: `cls.__new__(cls)`, entered in the memo, then every set slot
    deep-copied and set), less the reduce tuple and state dicts built and copied on the way."""
    cls = type(self)
    new = cls.__new__(cls)
    memo[id(self)] = new
    dispatch, atomic = copy._deepcopy_dispatch, copy._deepcopy_atomic
    for name in copyreg._slotnames(cls):
        try:
            value = object.__getattribute__(self, name)
        except AttributeError:  # an unset slot stays unset
            continue
        vcls = type(value)
        copier = dispatch.get(vcls)
        # what deepcopy returns unchanged (None, str, int, functions, classes ...) is not passed to it
        if copier is not atomic and not (copier is None and issubclass(vcls, type)):
            value = copy.deepcopy(value, memo)
        setattr(new, name, value)
    return new


def copy_pydantic_v1_fields_faster() -> None:
    """pydantic v1's ModelField, FieldInfo and Validator deep-copied by `_slots_deepcopy`
    (idempotent; classes that define their own copy are left alone)."""
    from pydantic.v1 import class_validators, fields

    with _LOCK:
        for cls in (fields.ModelField, fields.FieldInfo, class_validators.Validator):
            if "__deepcopy__" not in vars(cls) and "__reduce_ex__" not in vars(cls) \
                    and "__reduce__" not in vars(cls) and "__getstate__" not in vars(cls):
                cls.__deepcopy__ = _slots_deepcopy
