"""`memoise_metric_ids`: GE's metric ids kept per content, the same ids and contract results."""

import polars as pl

from wxpipeline.checks import contract_ge, contracts
from wxpipeline.ge_ids import _ORIGINAL, memoise_metric_ids


def test_kept_ids_are_ge_s_own_and_types_stay_apart():
    contract_ge.batch_definition()  # imports GE and installs the memo
    memoise_metric_ids()
    from great_expectations.core.id_dict import IDDict
    from great_expectations.validator.metric_configuration import MetricConfiguration

    own = _ORIGINAL[0]
    kwargs = [
        {"column": "userid", "batch_id": "wxpipeline-staged"},
        {"column_list": ["group_id", "event_time"], "ignore_row_if": "all_values_are_missing", "batch_id": "b"},
        {"value_set": [1, 2, 3], "parse_strings_as_datetimes": False},
        {"min_value": 0, "max_value": 1.5, "strict_min": None},
        {"nested": {"a": [1, {"b": None}]}, "x": "y"},
        {"only": True},
    ]
    for kw in kwargs:
        d = IDDict(kw)
        assert d.to_id() == own(d) == d.to_id()  # computed, then kept
        assert d.to_id(id_keys=list(kw)[:1]) == own(d, id_keys=list(kw)[:1])
    # near misses: equal in Python, different in JSON
    pairs = (({"v": True, "w": 0}, {"v": 1, "w": 0}), ({"v": 1, "w": 0}, {"v": 1.0, "w": 0}),
             ({"v": [1], "w": 0}, {"v": (1,), "w": 0}))
    for a, b in pairs:
        assert IDDict(a).to_id() == own(IDDict(a)) and IDDict(b).to_id() == own(IDDict(b))
    assert IDDict({"v": True, "w": 0}).to_id() != IDDict({"v": 1, "w": 0}).to_id()
    # values that are not plain JSON go through GE's own computation
    import numpy as np

    odd = IDDict({"v": np.int64(3), "w": "x"})
    assert odd.to_id() == own(odd)
    m = MetricConfiguration("column_values.nonnull.unexpected_count", {"column": "userid"},
                            {"result_format": "BOOLEAN_ONLY"})
    assert m.id[1] == own(IDDict({"column": "userid"}))


def test_a_failing_contract_reports_the_same_with_kept_ids():
    from datetime import datetime

    from great_expectations.core.id_dict import IDDict

    contract_ge.batch_definition()  # installs the memo
    table = "wecom_group_members"
    schema = contracts.CONTRACTS[table].schema
    t = datetime(2026, 10, 12, 9)
    rows = [(t, "g1", "u1", 1, 1, "invite"), (t, "g1", "u1", 1, 1, "invite"),  # repeated key
            (t, "g1", None, 2, 3, "qrcode"), (t, "g2", "u3", 7, 9, "walk-in"), (t, "g2", "u4", 2, 2, "invite")]
    frame = pl.DataFrame([dict(zip(("snapshot_time", "group_id", "userid", "member_type", "join_scene",
                                    "join_method"), r)) for r in rows]).with_columns(
        pl.col("snapshot_time").dt.replace_time_zone("Asia/Shanghai").dt.cast_time_unit("us"))
    frame = frame.select(pl.col(c) if c in frame.columns else pl.lit(None, dtype).alias(c)
                         for c, dtype in schema.items()).cast(dict(schema))
    kept = contracts.validate(table, frame)
    memo = IDDict.to_id
    IDDict.to_id = _ORIGINAL[0]  # GE's own ids, computed each time
    try:
        own = contracts.validate(table, frame)
    finally:
        IDDict.to_id = memo
    assert not kept.passed and len(kept.failures) >= 4
    assert (kept.passed, kept.rows, kept.failures) == (own.passed, own.rows, own.failures)
