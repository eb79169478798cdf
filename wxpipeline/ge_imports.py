"""Great Expectations without the imports our contracts never use, until something uses them.

`import great_expectations` loads every core expectation, and one of them (the KL-divergence
expectation; the KS-test metrics likewise) imports `scipy.stats` and `altair` at module level
for use inside its methods: ~1.5 of the ~3 CPU seconds of the import, paid by every process that
validates a contract (the reference run of each `wxpipeline run`, its stage helper). Our
contracts use neither (contracts.py: not-null, unique, sets, ranges, pairs). Here those two
modules are entered in `sys.modules` as stand-ins that import the real module on first
attribute access and hand on every attribute: an expectation that does use them still works,
it only pays the import then. Likewise two modules GE imports at module level only for use inside
functions a run never calls: `jsonschema` (its JSON-schema expectation, ~0.07 CPU s a process)
and `mistune` (its markdown rendering).

Importing Great Expectations also creates ~370 pydantic v1 model classes (its expectations,
fluent datasources and their assets, checkpoint actions). pydantic v1 deep-copies the fields
of every base class into each subclass, through `copy`'s generic reduce/reconstruct path for
its slotted field objects: a third of the import. `copy_pydantic_v1_fields_faster` gives those
field objects a `__deepcopy__` that builds the same copy directly (every slot deep-copied into
the same memo, values `copy` treats as immutable kept as they are): the same fields, checked
against the generic copy for every model class GE defines (tests/test_ge_imports.py), for
~0.3 CPU s less per process.

And the import builds every fluent datasource GE offers (Spark, SQL, Snowflake, Databricks,
cloud-storage pandas ...: ~30 classes with their asset models) and every core expectation (~60)
when our contracts validate a pandas frame through the one `PandasDatasource` with six kinds of
expectation (contract_ge.py). The packages in `PARTIAL` (`great_expectations.datasource.fluent`,
`great_expectations.expectations` and its `core`) are executed here without the imports of the
others (`defer_unused_ge_modules`, ~0.4 + ~0.4 CPU s a process): each of their names is still
there and imports its module on first use; GE asked for a datasource method (`data_sources.
add_spark` ...) or an expectation (by name, or the list of them) it does not know yet imports
them all first and then answers as it would have.

Installed by `wxpipeline run` and `nightly` (cli_nightly.py, stage_pool.py) and by the code
location (definitions.py: the run workers the daemon and the UI launch), before Great Expectations
is imported; a module already imported is left as it is.
"""

from __future__ import annotations

import ast
import copy
import copyreg
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types

DEFERRED = ("scipy.stats", "altair", "jsonschema", "mistune")
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
    """Enter the stand-ins (idempotent; a module already imported stays), copy pydantic v1's
    field objects without `copy`'s generic path (`copy_pydantic_v1_fields_faster`) and defer the
    fluent datasources and core expectations our contracts do not use (`defer_unused_ge_modules`)."""
    with _LOCK:
        for name in DEFERRED:
            if name not in sys.modules:
                sys.modules[name] = _Deferred(name)
    copy_pydantic_v1_fields_faster()
    defer_unused_ge_modules()


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


FLUENT = "great_expectations.datasource.fluent"
EXPECTATIONS = "great_expectations.expectations"
# the fluent modules our contracts use: the base classes, the batch request and the pandas datasource
FLUENT_KEPT = ("interfaces", "invalid_datasource", "batch_request", "pandas_datasource")
# the expectations contract_ge.suite builds (another one is imported when first used)
EXPECTATIONS_KEPT = ("ExpectColumnValuesToNotBeNull", "ExpectCompoundColumnsToBeUnique", "ExpectColumnValuesToBeUnique",
                     "ExpectColumnValuesToBeInSet", "ExpectColumnValuesToBeBetween",
                     "ExpectColumnPairValuesAToBeGreaterThanB")


def _fluent_deferrable(module: str, name: str) -> bool:
    return module.rsplit(".", 1)[1] not in FLUENT_KEPT and name.endswith("Datasource")


def _expectation_deferrable(module: str, name: str) -> bool:
    # a core expectation class (`Expectation` itself and UnexpectedRowsExpectation are kept)
    return (module == f"{EXPECTATIONS}.core" or module.startswith(f"{EXPECTATIONS}.core.expect_")) \
        and name.startswith("Expect") and name not in EXPECTATIONS_KEPT


# package -> which of its `from <module> import <name>` statements' names wait for first use
PARTIAL = {FLUENT: _fluent_deferrable, EXPECTATIONS: _expectation_deferrable,
           f"{EXPECTATIONS}.core": _expectation_deferrable}
_DEFERRED: dict[str, dict[str, tuple[str, str]]] = {}  # package -> name -> (its module, its name there)


def defer_unused_ge_modules() -> None:
    """Have the `PARTIAL` packages imported without their deferrable imports (idempotent;
    nothing changes for a package already imported)."""
    with _LOCK:
        if not any(isinstance(f, _PartialFinder) for f in sys.meta_path) and not set(PARTIAL) & set(sys.modules):
            sys.meta_path.insert(0, _PartialFinder())


class _PartialFinder(importlib.abc.MetaPathFinder):
    """Finds a `PARTIAL` package where it is installed, to be executed by `_PartialLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name not in PARTIAL or name in _DEFERRED:
            return None
        real = importlib.machinery.PathFinder.find_spec(name, path)
        if real is None or not (real.origin or "").endswith("__init__.py"):
            return real
        return importlib.util.spec_from_file_location(name, real.origin, loader=_PartialLoader(),
                                                      submodule_search_locations=real.submodule_search_locations)


class _PartialLoader(importlib.abc.Loader):
    """Executes a package's `__init__.py` less the names its `PARTIAL` rule defers, which the
    package then imports on first attribute access (PEP 562 `__getattr__`)."""

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        package, origin = module.__name__, module.__spec__.origin
        deferrable, deferred = PARTIAL[package], _DEFERRED.setdefault(package, {})
        with open(origin, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), origin)
        kept = []
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level <= 1:
                source = node.module if node.level == 0 else f"{package}.{node.module}"
                later = [a for a in node.names if a.name != "*" and deferrable(source, a.name)]
                deferred.update({a.asname or a.name: (source, a.name) for a in later})
                node.names = [a for a in node.names if a not in later]
                if not node.names:
                    continue
            kept.append(node)
        tree.body = kept
        module.__getattr__ = lambda name: _deferred_attribute(package, name)
        if package == f"{EXPECTATIONS}.core" and deferred:
            _import_deferred_on_unknown_expectation()
        exec(compile(tree, origin, "exec"), module.__dict__)
        if package == FLUENT and deferred:
            _import_deferred_on_unknown_method()


def _deferred_attribute(package: str, name: str):
    if name in _DEFERRED[package]:
        module, attr = _DEFERRED[package][name]
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)  # as the import would have left it
        return value
    raise AttributeError(f"module {package!r} has no attribute {name!r}")


def import_deferred(package: str) -> None:
    """Every name `package` left for first use (each datasource or expectation registers itself
    with GE as its module is imported)."""
    for name in list(_DEFERRED.get(package, ())):
        _deferred_attribute(package, name)


def _import_deferred_on_unknown_method() -> None:
    """`context.data_sources.<method>` that no imported datasource registered: the deferred
    datasource modules imported, then asked again (GE's own error if still unknown)."""
    from great_expectations.datasource.fluent.sources import DataSourceManager

    lookup = DataSourceManager.__getattr__

    def __getattr__(self, attr_name: str):
        try:
            return lookup(self, attr_name)
        except AttributeError:
            if attr_name.startswith("_"):
                raise
            import_deferred(FLUENT)
            return lookup(self, attr_name)

    DataSourceManager.__getattr__ = __getattr__


class _ExpectationRegistry(dict):
    """GE's registry of expectation classes (by snake-case name): a name not registered, or
    the whole list, imports the deferred core expectations first."""

    def get(self, key, default=None):
        if not dict.__contains__(self, key):
            import_deferred(f"{EXPECTATIONS}.core")
        return dict.get(self, key, default)

    def items(self):
        import_deferred(f"{EXPECTATIONS}.core")
        return dict.items(self)


def _import_deferred_on_unknown_expectation() -> None:
    from great_expectations.expectations import registry

    if not isinstance(registry._registered_expectations, _ExpectationRegistry):
        registry._registered_expectations = _ExpectationRegistry(registry._registered_expectations)
