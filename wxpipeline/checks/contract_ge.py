"""Great Expectations' side of the input contracts (`contracts.validate`): the GE context and
batch definition built once per process, each contract's suite, the validation of a pandas
sample, GE's expectation configurations kept for the length of a validation, and each suite's
metric dependency graph planned once per process (`_planned_graphs`).
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wxpipeline.checks.contracts import Contract


@lru_cache(maxsize=1)
def batch_definition():
    """The GE context, datasource and batch definition: built once per process."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network
    import great_expectations as gx

    from wxpipeline.ge_ids import memoise_metric_ids

    memoise_metric_ids()  # each metric id computed once per distinct kwargs (a quarter of a small table's check)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    # GE draws a tqdm bar per validation, flooding run logs
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = ctx.data_sources.add_pandas("wxpipeline").add_dataframe_asset("staged")
    return asset.add_batch_definition_whole_dataframe("whole")


_SUITES: dict[str, object] = {}


def suite(c: Contract):
    """The contract as a GE suite, built once per process (per contract definition)."""
    key = f"{c.table}|{c.describe()}"
    if key not in _SUITES:
        import great_expectations as gx
        import great_expectations.expectations as gxe

        exps = [gxe.ExpectColumnValuesToNotBeNull(column=col) for col in c.not_null]
        if c.unique:
            exps.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(c.unique)) if len(c.unique) > 1
                        else gxe.ExpectColumnValuesToBeUnique(column=c.unique[0]))
        for col, values in c.value_sets.items():
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=col, value_set=[v for v in values if v is not None]))
        for col, (lo, hi) in c.ranges.items():
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi))
        for earlier, later in c.orderings:
            exps.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"))
        _SUITES[key] = gx.ExpectationSuite(name=f"{c.table}_contract", expectations=exps)
    return _SUITES[key]


def ge_validate(c: Contract, pdf, result_format: str):
    """GE's validation of the contract's suite on the pandas frame `pdf`, as
    `batch_definition.get_batch(...).validate(suite)` does it, less the batch that call builds
    only to be discarded: `Batch.validate` validates through a validator that loads the batch
    again from the same batch request (each load hashes the frame: ~3 of a small table's ~20 CPU ms)."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=batch_definition(), batch_parameters={"dataframe": pdf},
                          result_format=result_format)
    return validator.validate_expectation_suite(suite(c))


_GE_LOCK = threading.Lock()


@contextmanager
def configurations_kept():
    """While GE validates: an expectation's `configuration` is computed once per object, not
    on every read. GE derives it afresh from the pydantic fields each time (`dict()` and a regex
    on the class name) and reads it ~60 times per expectation while planning the metrics: 40% of
    a validation, about 2 ms per expectation, paid by every staged table of every day. The
    expectations are not changed during a validation; each cached object is held until the end,
    so its id cannot be reused by another.

    Likewise a configuration's `to_domain_obj` (the pydantic expectation it describes, validated
    field by field) is built once per configuration and content: GE asks for it ~9 times per
    expectation (every metric's kwargs), ~15% of a small table's validation. A configuration
    whose type or kwargs changed since (GE adds the batch id to a copy) gets a new one.

    And each suite's metric dependency graph is planned once per process (`_planned_graphs`),
    and each expectation's validation dependencies once per process (`_dependencies_kept`).

    And the frame GE validates is not fingerprinted: loading a pandas batch hashes the whole
    frame (`hash_pandas_dataframe`, every row of every column) into a batch marker,
    `pandas_data_fingerprint`, that only the validation result's `meta` carries; `contracts`
    reads a result's success and expectation results, never its meta. GE itself leaves the
    marker out for a frame of 1 GB or more (`HASH_THRESHOLD`): here for every frame. About 2 of
    a small table's ~15 CPU ms, ~0.3 CPU s of a one-day run's ~140 contracts. Nor is the frame's
    size asked for, which only decides that (`_loaded_unfingerprinted`)."""
    from great_expectations.execution_engine import pandas_execution_engine
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.validator.validator import Validator as GraphValidator

    with _GE_LOCK:
        threshold = pandas_execution_engine.HASH_THRESHOLD
        computed = Expectation.__dict__["configuration"]
        build = ExpectationConfiguration.__dict__["to_domain_obj"]
        plan = GraphValidator.__dict__[_PLAN]
        engine = pandas_execution_engine.PandasExecutionEngine
        load = engine.__dict__["get_batch_data_and_markers"]
        validate = Expectation.__dict__["metrics_validate"]
        own: dict[type, object] = {}  # expectation class -> its own `get_validation_dependencies` entry (or None)
        kept: dict[int, tuple] = {}
        built: dict[int, tuple] = {}

        def configuration(self):
            hit = kept.get(id(self))
            if hit is None or hit[0] is not self:
                hit = kept[id(self)] = (self, computed.fget(self))
            return hit[1]

        def to_domain_obj(self):
            state = (self.type, dict(self.kwargs), self.meta, self.notes, self.description, self.severity, self.id,
                     self.rendered_content)
            hit = built.get(id(self))
            if hit is None or hit[0] is not self or hit[1] != state:
                hit = built[id(self)] = (self, state, build(self))
            return hit[2]

        def metrics_validate(self, *args, **kwargs):
            cls = type(self)
            if cls not in own:  # its dependencies kept from now on (restored below)
                own[cls] = cls.__dict__.get(_DEPS)
                setattr(cls, _DEPS, _dependencies_kept(getattr(cls, _DEPS)))
            return validate(self, *args, **kwargs)

        Expectation.configuration = property(configuration, doc=computed.__doc__)
        ExpectationConfiguration.to_domain_obj = to_domain_obj
        Expectation.metrics_validate = metrics_validate
        engine.get_batch_data_and_markers = _loaded_unfingerprinted(load)
        setattr(GraphValidator, _PLAN, _planned_graphs(plan))
        pandas_execution_engine.HASH_THRESHOLD = 0  # no frame is below it: none fingerprinted
        try:
            yield
        finally:
            pandas_execution_engine.HASH_THRESHOLD = threshold
            Expectation.configuration = computed
            ExpectationConfiguration.to_domain_obj = build
            setattr(GraphValidator, _PLAN, plan)
            Expectation.metrics_validate = validate
            engine.get_batch_data_and_markers = load
            for cls, entry in own.items():
                if entry is None:
                    delattr(cls, _DEPS)
                else:
                    setattr(cls, _DEPS, entry)


_PLAN = "_generate_metric_dependency_subgraphs_for_each_expectation_configuration"
# (batch id, engine class, runtime configuration, exceptions caught, the configurations' content)
# -> per expectation (the configuration as evaluated, its graph's edges)
_GRAPHS: dict[tuple, list[tuple]] = {}


def _config_state(c) -> tuple:
    return (c.type, repr(c.kwargs), repr(c.meta), c.notes, c.description, c.severity, c.id, repr(c.rendered_content))


def _planned_graphs(plan):
    """GE's planning of a validation (which metrics each expectation needs, and what those need
    in turn: ~a third of a small table's validation) done once per suite and process. The plan
    depends on the expectations' configurations, the batch id (ours is the same for every
    frame: the whole-dataframe batch of one asset), the engine's class and the runtime
    configuration (result format), never on the data: a plan with the same inputs is reused,
    each validation getting its own copy of the configurations and a graph of its own over the
    same edges (GE reads the edges while it resolves the metrics; it does not change them), and
    the metrics are computed on every validation's frame as before. A plan in which an
    expectation failed to plan (its error is a result) is never kept."""
    import copy

    from great_expectations.validator.validation_graph import ExpectationValidationGraph, ValidationGraph

    def planned(self, expectation_configurations, processed_configurations, catch_exceptions,
                runtime_configuration=None):
        key = (self.active_batch_id, type(self._execution_engine), repr(runtime_configuration), catch_exceptions,
               tuple(_config_state(c) for c in expectation_configurations))
        kept = _GRAPHS.get(key)
        if kept is None:
            graphs, evrs, processed = plan(self, expectation_configurations, processed_configurations,
                                           catch_exceptions, runtime_configuration)
            if not evrs and len(graphs) == len(expectation_configurations):
                _GRAPHS[key] = [(copy.deepcopy(g.configuration), list(g.graph.edges)) for g in graphs]
            return graphs, evrs, processed
        graphs = []
        for configuration, edges in kept:
            evaluated = copy.deepcopy(configuration)
            graphs.append(ExpectationValidationGraph(
                configuration=evaluated, graph=ValidationGraph(execution_engine=self._execution_engine, edges=list(edges))))
            processed_configurations.append(evaluated)
        return graphs, [], processed_configurations

    return planned


_DEPS = "get_validation_dependencies"
# (expectation class, its configuration's content, engine class, runtime configuration, extra
# arguments) -> the validation dependencies GE derived for them
_DEPENDENCIES: dict[tuple, object] = {}


def _dependencies_kept(derive):
    """An expectation's validation dependencies (the metrics it reads and its result format)
    derived once per process for the same inputs. GE derives them again for every expectation of
    every validation when it evaluates the resolved metrics (`metrics_validate`), through the
    configuration's domain, success and runtime kwargs and a pydantic model per metric: ~17% of a
    small table's validation (1.8-2.1 of 10.5-12.4 CPU s for 160 contracts under cProfile). They
    depend on the class, the configuration (its batch id included), the engine's class and the
    runtime configuration, never on the data or the engine itself (GE's implementations for our
    expectations only pass the engine on to `super()`). Each call gets its own dependencies
    object and result format; the metric configurations, which GE only reads (their ids), are shared."""
    import copy

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None, **kwargs):
        key = (type(self), _config_state(self.configuration), type(execution_engine), repr(runtime_configuration),
               repr(sorted(kwargs.items())))
        deps = _DEPENDENCIES.get(key)
        if deps is None:
            deps = derive(self, execution_engine=execution_engine, runtime_configuration=runtime_configuration, **kwargs)
            _DEPENDENCIES[key] = deps
        return type(deps)(metric_configurations=dict(deps.metric_configurations),
                          result_format=copy.deepcopy(deps.result_format))

    return get_validation_dependencies


def _loaded_unfingerprinted(load):
    """GE's `PandasExecutionEngine.get_batch_data_and_markers` (great_expectations 1.24.1) for the
    one batch our contracts load (a runtime pandas frame), less the frame's size it computes only
    to compare it with `HASH_THRESHOLD` (0 while validating a contract: no fingerprint, see
    `configurations_kept`): `DataFrame.memory_usage` builds a Series per column (1.40 of the
    load's 1.52 CPU s for 480 contracts under cProfile; ~4 ms timed for a 6-column sample at load
    12). The same batch data and markers (the load time); any other batch spec loads as GE does."""
    import datetime

    import pandas as pd
    from great_expectations.core.batch import BatchMarkers
    from great_expectations.core.batch_spec import RuntimeDataBatchSpec
    from great_expectations.execution_engine.pandas_batch_data import PandasBatchData

    def get_batch_data_and_markers(self, batch_spec):
        if not (isinstance(batch_spec, RuntimeDataBatchSpec) and isinstance(batch_spec.batch_data, pd.DataFrame)):
            return load(self, batch_spec)
        markers = BatchMarkers({"ge_load_time": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%S.%fZ")})
        df = batch_spec.batch_data
        batch_spec.batch_data = "PandasDataFrame"
        df = self._apply_partitioning_and_sampling_methods(batch_spec, df)
        return PandasBatchData(execution_engine=self, dataframe=df), markers

    return get_batch_data_and_markers
