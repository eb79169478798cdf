"""`defer_unused_ge_imports`: a stand-in module imports the real one on first use; pydantic v1's
field objects copied as `copy`'s generic path copies them."""

import sys

from wxpipeline.ge_imports import _Deferred


def test_a_stand_in_imports_the_real_module_on_first_attribute():
    saved = sys.modules.pop("colorsys", None)
    try:
        sys.modules["colorsys"] = stand_in = _Deferred("colorsys")
        import colorsys

        assert colorsys is stand_in and "rgb_to_hsv" not in vars(stand_in)  # nothing imported yet
        assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)  # works, via the real module
        assert sys.modules["colorsys"] is not stand_in
        import colorsys as again

        assert again.hsv_to_rgb(0.0, 1.0, 1.0) == (1.0, 0.0, 0.0)
    finally:
        sys.modules.pop("colorsys", None)
        if saved is not None:
            sys.modules["colorsys"] = saved


_VALIDATE = (
    "import sys, polars as pl; from wxpipeline.checks import contracts; "
    "rows = lambda s: pl.DataFrame([[None] * len(s)] * 2, schema=s, orient='row'); "
    # two rows of nulls per contract: GE validates them, and every contract with a rule fails
    "rs = [contracts.validate(t, rows(c.schema)) for t, c in sorted(contracts.CONTRACTS.items())]; "
    "print([(r.passed, sorted(str(f) for f in r.failures)) for r in rs]); "
    "print('great_expectations' in sys.modules, 'scipy.stats._stats_py' in sys.modules, "
    "'altair.vegalite' in sys.modules, 'great_expectations.datasource.fluent.spark_datasource' in sys.modules, "
    "'jsonschema.validators' in sys.modules); "
)


def _python(code: str) -> list[str]:
    import subprocess

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()


def test_the_code_location_installs_the_stand_ins():
    """A run the daemon or the UI launches imports the definitions, not the CLI: its contracts
    validate without scipy.stats, altair and the unused datasources too, with the same results."""
    located = _python("import wxpipeline.definitions; " + _VALIDATE)
    deferred = _python("from wxpipeline.ge_imports import defer_unused_ge_imports; defer_unused_ge_imports(); "
                       + _VALIDATE)
    assert located == deferred and located[1] == "True False False False False"


def test_great_expectations_validates_with_the_stand_ins():
    """The same failures as Great Expectations imported whole, without scipy.stats, altair and the
    unused fluent datasources; a deferred datasource is there on first use."""
    deferred = _python(
        "from wxpipeline.ge_imports import defer_unused_ge_imports; defer_unused_ge_imports(); " + _VALIDATE
        + "import great_expectations as gx; from great_expectations.datasource.fluent import SparkDatasource; "
        "print(SparkDatasource.__module__, callable(gx.get_context(mode='ephemeral').data_sources.add_sqlite)); "
        "from great_expectations.expectations.registry import get_expectation_impl as impl, "
        "list_registered_expectation_implementations as listed; "
        "print(impl('expect_column_max_to_be_between').__name__, len(listed())); "
        "import great_expectations.expectations as gxe; "
        "print('Expectation' in vars(gxe), gxe.ExpectColumnMeanToBeBetween.__name__)")
    whole = _python(_VALIDATE + "from great_expectations.expectations.registry import "
                    "list_registered_expectation_implementations as listed; print(len(listed()))")
    assert deferred[0] == whole[0] and deferred[0].count("(False, [") >= 10  # fail with the same failures
    assert deferred[1] == "True False False False False" and whole[1] == "True True True True True"
    assert deferred[2] == "great_expectations.datasource.fluent.spark_datasource True"
    assert deferred[3] == f"ExpectColumnMaxToBeBetween {whole[2]}"  # every expectation there on demand
    assert deferred[4] == "True ExpectColumnMeanToBeBetween"  # the base class imported as before


def _same_copy(a, b, original, path, seen):
    """`a` (our copy) and `b` (copy's generic one) of `original`: the same structure, values and
    sharing, and no slotted pydantic object of the original in ours."""
    import copyreg

    assert type(a) is type(b), path
    if id(a) in seen:
        assert seen[id(a)] is b, path  # shared where the generic copy shares
        return
    seen[id(a)] = b
    if type(a).__module__.startswith("pydantic.v1") and hasattr(type(a), "__slots__"):
        assert a is not original, path  # copied, not shared with the base class's fields
        for name in copyreg._slotnames(type(a)):
            unset = object()
            va, vb, vo = (getattr(x, name, unset) for x in (a, b, original))
            assert (va is unset) == (vb is unset), f"{path}.{name}"
            if va is not unset:
                _same_copy(va, vb, vo, f"{path}.{name}", seen)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y, o) in enumerate(zip(a, b, original)):
            _same_copy(x, y, o, f"{path}[{i}]", seen)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _same_copy(a[k], b[k], original[k], f"{path}[{k!r}]", seen)
    elif a is b:  # kept as it is (None, str, classes, functions) or the same cached typing alias
        pass
    elif type(a).__module__.startswith("pydantic.v1") and hasattr(a, "__dict__"):  # DeferredType ...
        assert b is not original, path
        _same_copy(vars(a), vars(b), vars(original), path, seen)
    else:  # e.g. typing.Annotated[..., FieldInfo(...)]: equal, or printed alike (no addresses)
        assert a == b or (repr(a) == repr(b) and " at 0x" not in repr(a)), path
        assert b is not original, path


def test_pydantic_v1_fields_copied_as_the_generic_deepcopy_does():
    """Every model class Great Expectations defines: its fields deep-copied (as pydantic copies a
    base class's fields into a subclass) by `_slots_deepcopy` are those of copy's generic path."""
    import copy

    from pydantic.v1 import BaseModel, class_validators, fields

    from wxpipeline.checks import contract_ge
    from wxpipeline.ge_imports import _slots_deepcopy, copy_pydantic_v1_fields_faster

    copy_pydantic_v1_fields_faster()
    contract_ge.batch_definition()  # imports Great Expectations' model classes
    classes, todo = [], [BaseModel]
    while todo:
        classes.extend(subs := todo.pop().__subclasses__())
        todo.extend(subs)
    assert len(classes) > 200 and fields.ModelField.__deepcopy__ is _slots_deepcopy
    patched = (fields.ModelField, fields.FieldInfo, class_validators.Validator)
    for cls in classes:
        ours = copy.deepcopy(cls.__fields__)
        for p in patched:
            del p.__deepcopy__
        try:
            generic = copy.deepcopy(cls.__fields__)
        finally:
            for p in patched:
                p.__deepcopy__ = _slots_deepcopy
        _same_copy(ours, generic, cls.__fields__, cls.__qualname__, {})
