"""Input contracts: polars evaluates every expectation on every row, GE a bounded sample."""

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from wxpipeline.checks import contract_ge, contracts
from wxpipeline.formats.schemas import SCHEMAS
from wxpipeline.hashes import repeat_count, repeated_hashes

SH = ZoneInfo("Asia/Shanghai")


def messages(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "msgid": [f"m{i}" for i in range(n)], "action": ["send"] * n, "sender": ["u"] * n, "recipients": ['["v"]'] * n,
        "roomid": [None] * n, "sent_at": [datetime(2026, 10, 12, 9, tzinfo=SH)] * n, "msgtype": ["text"] * n,
        "text": ["hi"] * n, "urls": [[]] * n, "revoked_msgid": [None] * n, "source_file": ["a.jsonl"] * n,
        "source_line": list(range(1, n + 1)),
    }, schema=SCHEMAS["wecom_messages"])


def test_a_clean_day_passes_lazily():
    r = contracts.validate("wecom_messages", messages(20_000).lazy())
    assert r.passed and r.rows == 20_000 and r.failures == []


def test_a_day_staged_with_recipient_lists_fails_on_its_type():
    # the archive parser's v2 staged `recipients` as List[String]: such a file is not taken for a new one
    old = messages(10).with_columns(pl.col("recipients").str.json_decode(pl.List(pl.String)))
    r = contracts.validate("wecom_messages", old.lazy())
    assert not r.passed and r.failures == [
        {"expectation": "column_type", "column": "recipients", "problem": "type List(String), expected String"}]


def test_every_breach_is_counted_over_all_rows_not_the_sample():
    df = messages(20_000).with_columns(
        pl.when(pl.col("source_line") > 19_990).then(pl.lit("m0")).otherwise(pl.col("msgid")).alias("msgid"),
        pl.when(pl.col("source_line") == 12_345).then(pl.lit("edit")).otherwise(pl.col("action")).alias("action"),
        pl.when(pl.col("source_line") == 777).then(None).otherwise(pl.col("msgtype")).alias("msgtype"),
    )
    r = contracts.validate("wecom_messages", df)
    got = {f["expectation"]: (f["column"], f["unexpected_count"], f["examples"][:1]) for f in r.failures}
    assert not r.passed
    assert got["expect_column_values_to_be_unique"] == ("msgid", 11, ["m0"])  # m0 and its 10 copies
    assert got["expect_column_values_to_be_in_set"] == ("action", 1, ["edit"])
    assert got["expect_column_values_to_not_be_null"][:2] == ("msgtype", 1)


def test_a_near_miss_null_is_not_out_of_set_and_a_missing_column_fails():
    df = messages(10).with_columns(pl.lit(None, pl.String).alias("roomid"))
    assert contracts.validate("wecom_messages", df).passed  # roomid may be null; not in any set
    r = contracts.validate("wecom_messages", messages(10).drop("msgtype"))
    assert not r.passed and r.failures[0]["expectation"] == "column_exists"


def test_ge_gives_the_same_results_with_expectation_configurations_kept():
    """The speed-up around GE's validation (configurations computed once) changes no result."""
    df = messages(50).with_columns(
        pl.when(pl.col("source_line") > 45).then(pl.lit("m0")).otherwise(pl.col("msgid")).alias("msgid"),
        pl.when(pl.col("source_line") == 7).then(pl.lit("edit")).otherwise(pl.col("action")).alias("action"),
    ).to_pandas()
    batch = contract_ge.batch_definition().get_batch(batch_parameters={"dataframe": df})
    suite = contract_ge.suite(contracts.CONTRACTS["wecom_messages"])

    def summary() -> list[dict]:
        result = batch.validate(suite, result_format="SUMMARY").to_json_dict()
        return sorted(({k: v for k, v in r.items() if k != "exception_info"} for r in result["results"]), key=str)

    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__["configuration"]
    plain = summary()
    with contract_ge.configurations_kept():
        assert Expectation.__dict__["configuration"] is not original
        kept = summary()
    assert kept == plain and sum(not r["success"] for r in plain) == 2
    assert Expectation.__dict__["configuration"] is original  # GE's own again afterwards


def test_ge_fingerprints_no_frame_while_validating_a_contract(monkeypatch):
    """The batch's fingerprint (a hash of every row, a marker only the result's meta carries) is
    not computed for our validations, and the same results come out; GE's own threshold is back after."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    hashed = []
    original = engine.hash_pandas_dataframe
    monkeypatch.setattr(engine, "hash_pandas_dataframe", lambda df: hashed.append(len(df)) or original(df))
    df = messages(40).with_columns(
        pl.when(pl.col("source_line") > 35).then(pl.lit("m0")).otherwise(pl.col("msgid")).alias("msgid")).to_pandas()
    c = contracts.CONTRACTS["wecom_messages"]

    def outcome() -> list:
        return sorted((r.expectation_config.type, r.success) for r in contract_ge.ge_validate(c, df, "SUMMARY").results)

    plain = outcome()
    assert hashed == [40]  # GE's own loading fingerprints the frame
    threshold = engine.HASH_THRESHOLD
    with contract_ge.configurations_kept():
        kept = outcome()
    assert hashed == [40] and kept == plain and ("expect_column_values_to_be_unique", False) in kept
    assert engine.HASH_THRESHOLD == threshold


def test_ge_plans_a_suite_once_and_computes_every_frames_metrics():
    """The metric graph planned once per suite (`contract_ge._planned_graphs`) is reused for
    other frames, clean or not, in either result format: the same results as GE's own planning."""
    import pandas as pd

    clean = messages(30).to_pandas()
    broken = messages(40).with_columns(
        pl.when(pl.col("source_line") > 35).then(pl.lit("m0")).otherwise(pl.col("msgid")).alias("msgid"),
        pl.when(pl.col("source_line") == 3).then(None).otherwise(pl.col("msgtype")).alias("msgtype"),
    ).to_pandas()
    suite = contract_ge.suite(contracts.CONTRACTS["wecom_messages"])

    def results(df: pd.DataFrame, result_format: str) -> list[dict]:
        batch = contract_ge.batch_definition().get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(suite, result_format=result_format).to_json_dict()
        return sorted(({k: v for k, v in r.items() if k != "exception_info"} for r in result["results"]), key=str)

    cases = [(df, fmt) for fmt in ("BOOLEAN_ONLY", "SUMMARY") for df in (clean, broken, clean, broken)]
    plain = [results(df, fmt) for df, fmt in cases]
    contract_ge._GRAPHS.clear()
    with contract_ge.configurations_kept():
        kept = [results(df, fmt) for df, fmt in cases]
    assert len(contract_ge._GRAPHS) == 2  # one plan per result format, reused by three frames each
    assert kept == plain
    assert [sum(not r["success"] for r in p) for p in plain] == [0, 2, 0, 2] * 2
    summary = {(r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column")):
               r["result"].get("unexpected_count") for r in kept[5]}
    assert summary["expect_column_values_to_be_unique", "msgid"] == 6  # m0 and its 5 copies
    assert summary["expect_column_values_to_not_be_null", "msgtype"] == 1


def test_ge_derives_each_expectations_dependencies_once_with_the_same_results():
    """An expectation's validation dependencies (`contract_ge._dependencies_kept`) are derived once
    per result format and reused for other frames, clean or not: the same results as GE's own;
    GE's classes are as they were afterwards."""
    from great_expectations.expectations.expectation import Expectation

    clean = messages(20).to_pandas()
    broken = messages(30).with_columns(
        pl.when(pl.col("source_line") > 25).then(pl.lit("m0")).otherwise(pl.col("msgid")).alias("msgid")).to_pandas()
    c = contracts.CONTRACTS["wecom_messages"]
    cases = [(df, fmt) for fmt in ("BOOLEAN_ONLY", "SUMMARY") for df in (clean, broken, broken)]

    def results(df, fmt) -> list[dict]:
        result = contract_ge.ge_validate(c, df, fmt).to_json_dict()
        return sorted(({k: v for k, v in r.items() if k != "exception_info"} for r in result["results"]), key=str)

    validate = Expectation.__dict__["metrics_validate"]
    plain = [results(df, fmt) for df, fmt in cases]
    contract_ge._DEPENDENCIES.clear()
    with contract_ge.configurations_kept():
        kept = [results(df, fmt) for df, fmt in cases]
        classes = {type(e) for e in contract_ge.suite(c).expectations}
        assert all("get_validation_dependencies" in cls.__dict__ for cls in classes)
    assert kept == plain and [sum(not r["success"] for r in p) for p in plain] == [0, 1, 1] * 2
    expectations = len(contract_ge.suite(c).expectations)
    assert len(contract_ge._DEPENDENCIES) == 2 * expectations  # per result format, not per frame
    assert Expectation.__dict__["metrics_validate"] is validate
    assert not any("get_validation_dependencies" in cls.__dict__ for cls in classes)  # GE's own again


def test_ge_loads_a_contracts_frame_as_it_does_without_asking_its_size(monkeypatch):
    """While a contract validates, the pandas frame is loaded as GE loads it with no fingerprint
    (the same frame, spec and markers) without computing its memory usage (`_loaded_unfingerprinted`)."""
    import pandas as pd
    from great_expectations.core.batch_spec import RuntimeDataBatchSpec
    from great_expectations.execution_engine import pandas_execution_engine

    df = messages(10).to_pandas()
    sized = []
    usage = pd.DataFrame.memory_usage
    monkeypatch.setattr(pd.DataFrame, "memory_usage", lambda self, *a, **k: sized.append(1) or usage(self, *a, **k))
    engine = pandas_execution_engine.PandasExecutionEngine()

    def loaded():
        spec = RuntimeDataBatchSpec(batch_data=df)
        data, markers = engine.get_batch_data_and_markers(spec)
        return data.dataframe, spec.batch_data, sorted(markers)

    with monkeypatch.context() as m:
        m.setattr(pandas_execution_engine, "HASH_THRESHOLD", 0)
        plain = loaded()  # GE's own, no fingerprint
    assert sized == [1]
    with contract_ge.configurations_kept():
        kept = loaded()
        result = contract_ge.ge_validate(contracts.CONTRACTS["wecom_messages"], df, "SUMMARY")
    assert sized == [1] and result.success  # not asked again, by the load or the validation
    assert kept[0] is plain[0] is df and kept[1:] == plain[1:] == ("PandasDataFrame", ["ge_load_time"])
    assert loaded()[2] == ["ge_load_time", "pandas_data_fingerprint"] and sized == [1, 1]  # GE's own again


def test_a_key_hash_collision_is_not_a_duplicate(monkeypatch):
    """Keys are counted by their 64-bit hash; a repeated hash with distinct keys (a collision,
    simulated here) is settled on the keys themselves and the table passes."""
    real = contracts._expectations

    def colliding(c):
        return [(kind, col, bad, pl.lit(1) if kind == "expect_column_values_to_be_unique" else agg)
                for kind, col, bad, agg in real(c)]

    monkeypatch.setattr(contracts, "_expectations", colliding)
    r = contracts.validate("wecom_messages", messages(1_000).lazy())
    assert r.passed and r.failures == []
    dup = messages(1_000).with_columns(pl.when(pl.col("source_line") == 9).then(pl.lit("m0"))
                                       .otherwise(pl.col("msgid")).alias("msgid"))
    r = contracts.validate("wecom_messages", dup.lazy())
    assert not r.passed and r.failures[0]["unexpected_count"] == 2


def test_ge_sees_an_even_sample_of_a_clean_day(monkeypatch):
    """The sample is read in the same pass as the aggregates: every (rows // SAMPLE_ROWS)-th row
    of the columns the contract names, at most SAMPLE_ROWS of them."""
    seen = []
    real = contracts.ge_validate

    def recording(c, pdf, result_format):
        seen.append(pdf)
        return real(c, pdf, result_format)

    monkeypatch.setattr(contracts, "ge_validate", recording)
    df = messages(20_003)
    assert contracts.validate("wecom_messages", df.lazy()).passed
    assert len(seen) == 1 and list(seen[0].columns) == ["msgid", "action", "sent_at", "msgtype"]
    assert seen[0]["msgid"].tolist() == df["msgid"].gather_every(4).head(contracts.SAMPLE_ROWS).to_list()
    assert len(seen[0]) == contracts.SAMPLE_ROWS


def test_a_repeated_compound_key_fails_with_its_rows_counted():
    """A compound key's hashes are counted by sorting them: a repeated key fails, both of its
    rows counted."""
    n = 50
    df = pl.DataFrame({
        "article_id": [f"a{i // 2}" for i in range(n)], "stage": ["editor", "proofread"] * (n // 2),
        "signer_employee_id": ["E0001"] * n, "signed_at": [datetime(2026, 10, 12, 9, tzinfo=SH)] * n,
        "flags": [""] * n, "important": [False] * n, "expedited": [False] * n, "repost": [False] * n,
        "source_file": ["s.csv"] * n, "source_line": list(range(1, n + 1)),
    }, schema=SCHEMAS["mp_signoffs"])
    assert contracts.validate("mp_signoffs", df).passed
    dup = df.with_columns(pl.when(pl.col("source_line") == 3).then(pl.lit("a0")).otherwise(pl.col("article_id"))
                          .alias("article_id"))  # (a0, editor) twice
    r = contracts.validate("mp_signoffs", dup)
    got = {f["expectation"]: f["unexpected_count"] for f in r.failures}
    assert not r.passed and got == {"expect_compound_columns_to_be_unique": 2}
    three_times = pl.Series([3, 1, 3, 2, 3], dtype=pl.UInt64)
    assert repeat_count(three_times) == 2 and repeated_hashes(three_times).to_list() == [3]
    assert repeat_count(pl.Series([1, 2], dtype=pl.UInt64)) == 0 and repeated_hashes(pl.Series([], dtype=pl.UInt64)).len() == 0


def _staged_with_proof(tmp_path, df: pl.DataFrame):
    from wxpipeline.hashes import DistinctKeys, file_identity

    path = tmp_path / "day.parquet"
    df.write_parquet(path)
    return path, DistinctKeys(("msgid",), df.height, path, file_identity(path))


def _counting_repeats(monkeypatch) -> list:
    calls = []
    real = contracts.repeat_count
    monkeypatch.setattr(contracts, "repeat_count", lambda h: calls.append(len(h)) or real(h))
    return calls


def test_staging_proof_of_distinct_keys_replaces_hashing_them_for_that_file(tmp_path, monkeypatch):
    calls = _counting_repeats(monkeypatch)
    path, proof = _staged_with_proof(tmp_path, messages(20_000))
    r = contracts.validate("wecom_messages", pl.scan_parquet(path), proof)
    assert r.passed and r.unique_proven_by == "staging" and calls == []
    r = contracts.validate("wecom_messages", pl.scan_parquet(path))  # without it, the contract hashes
    assert r.passed and r.unique_proven_by == "contract" and calls == [20_000]


def test_a_proof_for_a_file_changed_since_or_of_other_rows_is_ignored(tmp_path, monkeypatch):
    calls = _counting_repeats(monkeypatch)
    path, proof = _staged_with_proof(tmp_path, messages(1_000))
    dup = messages(1_000).with_columns(pl.when(pl.col("source_line") == 9).then(pl.lit("m0"))
                                       .otherwise(pl.col("msgid")).alias("msgid"))
    dup.write_parquet(path)  # the same path, rewritten behind the proof with a repeated key
    r = contracts.validate("wecom_messages", pl.scan_parquet(path), proof)
    assert not r.passed and r.unique_proven_by == "contract" and len(calls) == 1
    assert r.failures[0]["expectation"] == "expect_column_values_to_be_unique"
    assert r.failures[0]["unexpected_count"] == 2
    path, proof = _staged_with_proof(tmp_path, messages(1_000))
    from dataclasses import replace

    r = contracts.validate("wecom_messages", pl.scan_parquet(path), replace(proof, rows=999))
    assert r.passed and r.unique_proven_by == "contract"
    r = contracts.validate("mp_signoffs", pl.DataFrame(schema=SCHEMAS["mp_signoffs"]).lazy(), proof)  # another key
    assert r.passed


def test_a_file_replaced_while_the_contract_reads_it_is_checked_on_its_values(tmp_path, monkeypatch):
    from wxpipeline.hashes import DistinctKeys

    calls = _counting_repeats(monkeypatch)
    path, proof = _staged_with_proof(tmp_path, messages(1_000))
    answers = iter([True, False])  # held when the contract began, not when it ended
    monkeypatch.setattr(DistinctKeys, "holds", lambda self, key: next(answers))
    r = contracts.validate("wecom_messages", pl.scan_parquet(path), proof)
    assert r.passed and r.unique_proven_by == "contract" and calls == [1_000]


def test_a_big_proven_file_takes_null_counts_from_its_footer_with_the_same_verdict_and_sample(tmp_path, monkeypatch):
    from wxpipeline.hashes import DistinctKeys, file_identity

    samples, footers = [], []
    real_ge, real_footer = contracts.ge_validate, contracts.footer_null_counts
    monkeypatch.setattr(contracts, "ge_validate", lambda c, pdf, fmt: samples.append(pdf) or real_ge(c, pdf, fmt))
    monkeypatch.setattr(contracts, "footer_null_counts", lambda p, cols: footers.append(real_footer(p, cols)) or footers[-1])
    nulls = messages(12_000).with_columns(pl.when(pl.col("source_line").is_in([5, 9_001])).then(None)
                                          .otherwise(pl.col("msgid")).alias("msgid"))
    path = tmp_path / "day.parquet"
    for frame, stats, counted in ((messages(12_000), True, 0), (nulls, True, 2), (nulls, False, None)):
        frame.write_parquet(path, row_group_size=4_000, statistics=stats)  # three row groups
        proof = DistinctKeys(("msgid",), frame.height, path, file_identity(path))
        got = []
        for rows in (10**9, 1):  # one query of aggregates and sample; then the footer's counts, the sample streamed
            monkeypatch.setattr(contracts, "FOOTER_ROWS", rows)
            samples.clear()
            r = contracts.validate("wecom_messages", pl.scan_parquet(path), proof)
            got.append((r.passed, r.failures, r.unique_proven_by, samples[0]))
        assert footers.pop().get("msgid") == counted and not footers  # read only for the big file
        assert got[0][:3] == got[1][:3] and got[0][3].equals(got[1][3]) and len(got[0][3]) == 5_000
        assert got[0][0] == (frame is not nulls) and got[0][2] == "staging"
        if frame is nulls:
            assert got[1][1][0]["expectation"] == "expect_column_values_to_not_be_null"
            assert got[1][1][0]["unexpected_count"] == 2
