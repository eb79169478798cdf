"""`defer_unused_ge_imports`: a stand-in module imports the real one on first use."""

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


def test_great_expectations_validates_with_the_stand_ins(tmp_path):
    import subprocess

    code = ("from wxpipeline.ge_imports import defer_unused_ge_imports; defer_unused_ge_imports(); "
            "import sys, polars as pl; from wxpipeline.checks import contracts; "
            "schema = contracts.CONTRACTS['pay_approvals'].schema; "
            "row = pl.DataFrame([[None] * len(schema)], schema=schema, orient='row'); "
            "r = contracts.validate('pay_approvals', row); "  # one row of nulls: GE validates it, and it fails
            "print(r.passed, 'great_expectations' in sys.modules, "
            "'scipy.stats._stats_py' in sys.modules, 'altair.vegalite' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False", "False"]
