"""`ExportsFolder.day_lazy`, the query a staged day is written from: the day's records once per
natural key, the later file's copy winning, in file order; streamed straight through when no key
repeats."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from wxpipeline.resources.exports import ExportsFolder

HEADER = "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
DAY = date(2026, 9, 22)


@pytest.fixture(autouse=True)
def no_small_day_path(monkeypatch):
    """These days are tiny; the ways a big day is written are what is tested here (a small day is
    written by polars in one piece: `test_a_small_day_is_written_whole_by_polars`)."""
    from wxpipeline.resources import day_files

    monkeypatch.setattr(day_files, "SMALL_DAY_ROWS", 0)


def _folder(tmp_path: Path, files: dict[str, str]) -> ExportsFolder:
    for name, rows in files.items():
        p = tmp_path / "exports" / "ledger" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(HEADER + rows, "utf-8")
    return ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))


def _day(folder: ExportsFolder) -> pl.DataFrame:
    lazy, _ = folder.day_lazy("ledger", DAY)
    return lazy.collect()


def test_a_later_copy_of_a_record_wins_and_other_days_stay_out(tmp_path):
    folder = _folder(tmp_path, {
        "a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                 "L2,E0001,2026-09-22 10:00:00,20.00,T2,京东,文具\n"
                 "L9,E0001,2026-09-23 10:00:00,90.00,T9,京东,次日\n",
        "b.csv": "L1,E0001,2026-09-22 09:00:00,11.00,T1,京东,更正\n"
                 "L3,E0001,2026-09-22 11:00:00,30.00,T3,京东,文具\n",
    })
    day = _day(folder)
    assert day["entry_id"].to_list() == ["L2", "L1", "L3"]  # file order, the corrected L1 where it was read
    assert day.filter(pl.col("entry_id") == "L1")["purpose"].item() == "更正"
    # the same rows as deduplicating the whole day in memory
    whole = folder.scan("ledger").raw.collect().filter(pl.col("paid_at").dt.date() == DAY)
    assert day.equals(whole.unique("entry_id", keep="last", maintain_order=True))


def test_a_day_without_repeated_keys_is_every_record_of_the_day(tmp_path):
    folder = _folder(tmp_path, {
        "a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                 "L9,E0001,2026-09-21 23:59:59,90.00,T9,京东,前日\n",
        "b.csv": "L2,E0001,2026-09-22 23:59:59,20.00,T2,京东,文具\n",
    })
    day = _day(folder)
    assert day["entry_id"].to_list() == ["L1", "L2"]
    assert day.columns == folder.scan("ledger").raw.collect_schema().names()


def _staged(folder: ExportsFolder, tmp_path: Path, day: date = DAY) -> tuple[pl.DataFrame, str]:
    """The staged file as the IO manager writes it, and which way it was written."""
    from wxpipeline.resources.staged_io import StagedStore

    rows, scan = folder.day_rows("ledger", day)
    written = pl.read_parquet(StagedStore(tmp_path / "staged").write("ledger", day.isoformat(), rows))
    # what the day is by definition: every record of the day, deduplicated in memory
    whole = scan.raw.collect().filter(pl.col("paid_at").dt.date() == day)
    assert written.schema == whole.schema == rows.frame.collect_schema()
    assert written.equals(whole.unique("entry_id", keep="last", maintain_order=True))
    assert written.equals(rows.frame.collect()) and rows.rows == written.height
    return written, rows.how


def test_a_day_that_is_one_whole_file_is_copied_from_the_cache(tmp_path):
    folder = _folder(tmp_path, {
        "a.csv": "L9,E0001,2026-09-21 10:00:00,90.00,T9,京东,前日\n",
        "b.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                 "L2,E0002,2026-09-22 23:59:59,20.00,T2,京东,\n",
        "c.csv": "L8,E0001,2026-09-23 00:00:00,80.00,T8,京东,次日\n",
    })
    day, how = _staged(folder, tmp_path)
    assert how == "copy" and day["entry_id"].to_list() == ["L1", "L2"]
    assert _staged(folder, tmp_path, date(2026, 9, 21))[1] == "copy"
    assert _staged(folder, tmp_path, date(2026, 9, 20))[0].height == 0  # no file holds the day


def test_a_file_holding_two_days_is_filtered(tmp_path):
    folder = _folder(tmp_path, {"a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\n"
                                         "L9,E0001,2026-09-23 10:00:00,90.00,T9,京东,次日\n"})
    day, how = _staged(folder, tmp_path)
    assert how == "row groups" and day["entry_id"].to_list() == ["L1"]
    assert _staged(folder, tmp_path, date(2026, 9, 23))[0]["entry_id"].to_list() == ["L9"]


def test_a_corrected_re_export_is_not_copied_over(tmp_path):
    day_file = "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\nL2,E0001,2026-09-22 10:00:00,20.00,T2,京东,文具\n"
    folder = _folder(tmp_path, {"a.csv": day_file, "b.csv": "L1,E0001,2026-09-22 09:00:00,11.00,T1,京东,更正\n"})
    day, how = _staged(folder, tmp_path)
    assert how == "row groups" and day["entry_id"].to_list() == ["L2", "L1"]
    assert day.filter(pl.col("entry_id") == "L1")["purpose"].item() == "更正"
    # the same record twice in one file: the later line wins, and the file is not copied either
    repeated = _folder(tmp_path / "r", {"a.csv": day_file + "L1,E0001,2026-09-22 09:00:00,12.00,T1,京东,重发\n"})
    day, how = _staged(repeated, tmp_path / "r")
    assert how == "row groups" and day["purpose"].to_list() == ["文具", "重发"]


def test_a_small_day_is_written_whole_by_polars(tmp_path, monkeypatch):
    """Below SMALL_DAY_ROWS a day that is not one whole cache file is collected and written by
    polars: the same rows as the row groups' way (a corrected re-export, a key repeated)."""
    from wxpipeline.resources import day_files

    files = {"a.csv": "L1,E0001,2026-09-22 09:00:00,10.00,T1,京东,文具\nL2,E0001,2026-09-22 10:00:00,20.00,T2,京东,\n"
                      "L9,E0001,2026-09-23 10:00:00,90.00,T9,京东,次日\n",
             "b.csv": "L1,E0001,2026-09-22 09:00:00,11.00,T1,京东,更正\n"}
    by_groups, how = _staged(_folder(tmp_path / "g", files), tmp_path / "g")
    assert how == "row groups"
    monkeypatch.setattr(day_files, "SMALL_DAY_ROWS", 20_000)
    small, how = _staged(_folder(tmp_path / "s", files), tmp_path / "s")
    same = [c for c in small.columns if c != "source_file"]  # the two folders' paths differ
    assert how == "polars" and small.select(same).equals(by_groups.select(same))
    assert small["entry_id"].to_list() == ["L2", "L1"] and small["purpose"].to_list()[1] == "更正"
    assert _staged(_folder(tmp_path / "s", files), tmp_path / "s", date(2026, 9, 20))[0].height == 0


def test_a_small_day_is_read_once_and_deduplicated_in_memory(tmp_path, monkeypatch):
    """A day whose touched row groups hold fewer than SMALL_DAY_ROWS rows is read whole once and
    deduplicated in memory (keep-last, file order): the same frame as the row groups' way, written
    from memory, with staging's proof of distinct keys; a day that is exactly one file is still copied."""
    from wxpipeline.resources import day_files
    from wxpipeline.resources.staged_io import StagedStore

    monkeypatch.setattr(day_files, "SMALL_DAY_ROWS", 20_000)
    for name, files in {**_cases(), "one file": {"a.jsonl": [(f"m{i}", i * 60, "x") for i in range(30)]}}.items():
        folder = _archive(tmp_path / name, files)
        rows, scan = folder.day_rows("wecom_archive", DAY)
        assert rows.data is not None and rows.how == ("copy" if name == "one file" else "polars"), name
        path = StagedStore(tmp_path / name / "staged").write("wecom_messages", DAY.isoformat(), rows)
        written = pl.read_parquet(path)
        whole = scan.raw.collect().filter(pl.col("sent_at").dt.date() == DAY)
        assert written.schema == whole.schema, name
        assert written.equals(whole.unique("msgid", keep="last", maintain_order=True)), name
        assert written.equals(rows.data) and rows.rows == written.height, name
        assert rows.key_proof().holds(("msgid",)), name


def test_a_day_archive_file_of_several_row_groups_is_copied(tmp_path, monkeypatch):
    import json

    import pyarrow.parquet as pq

    from wxpipeline.formats import jsontools
    from wxpipeline.resources.staged_io import StagedStore

    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 4000)  # several blocks: several row groups
    day_ms = 1_790_006_400_000  # 2026-09-22 00:00 Asia/Shanghai
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    for name, times in {"a.jsonl": range(0, 200), "b.jsonl": range(200, 300)}.items():
        shift = 86_400_000 if name == "b.jsonl" else 0  # b: the next day
        (archive / name).write_text("\n".join(json.dumps(
            {"msgid": f"m{i}", "action": "send", "from": "zhangsan", "tolist": ["lisi", "wangwu"], "roomid": "",
             "msgtime": day_ms + shift + i * 1000, "msgtype": "text", "text": {"content": f"第{i}条"}},
            ensure_ascii=False) for i in times) + "\n", "utf-8")
    folder = ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))
    for day, ids, how in ((DAY, range(0, 200), "copy"), (date(2026, 9, 23), range(200, 300), "copy")):
        rows, scan = folder.day_rows("wecom_archive", day)
        written = pl.read_parquet(StagedStore(tmp_path / "staged").write("wecom_messages", day.isoformat(), rows))
        assert rows.how == how and written["msgid"].to_list() == [f"m{i}" for i in ids]
        assert pq.ParquetFile(rows.copy_of).metadata.num_row_groups > 1
        assert written.equals(rows.frame.collect()) and written.schema == scan.raw.collect_schema()


def _archive(tmp_path: Path, files: dict[str, list[tuple[str, int, str]]]) -> ExportsFolder:
    """Archive files of (msgid, seconds after 2026-09-22 00:00 Asia/Shanghai, text) lines."""
    import json

    day_ms = 1_790_006_400_000
    archive = tmp_path / "exports" / "wecom_archive"
    archive.mkdir(parents=True)
    for name, lines in files.items():
        (archive / name).write_text("\n".join(json.dumps(
            {"msgid": m, "action": "send", "from": f"user{s % 7}", "tolist": [f"user{s % 5}", f"user{s % 3}"],
             "roomid": "" if s % 2 else f"room{s % 4}", "msgtime": day_ms + s * 1000, "msgtype": "text",
             "text": {"content": text}}, ensure_ascii=False) for m, s, text in lines) + "\n", "utf-8")
    return ExportsFolder(exports_dir=str(tmp_path / "exports"), cache_dir=str(tmp_path / "cache"))


def _cases() -> dict[str, dict[str, list[tuple[str, int, str]]]]:
    night = 86_400 - 30  # 23:59:30: b's last lines fall on the next day
    return {
        # the retry file's messages repeated inside the day's file (the benchmark's day)
        "repeated": {"a.jsonl": [(f"m{i % 150}", i * 60, f"第{i}条") for i in range(400)]},
        # the day split over two files, the second holding the next day's first minutes too
        "split": {"a.jsonl": [(f"m{i}", i * 60, f"第{i}条") for i in range(200)],
                  "b.jsonl": [(f"m{i}", night + (i - 200) * 20, f"第{i}条") for i in range(200, 260)]},
        # a corrected re-export of part of the day, after the day's file
        "corrected": {"a.jsonl": [(f"m{i}", i * 60, f"第{i}条") for i in range(300)],
                      "b.jsonl": [(f"m{i}", i * 60, f"更正{i}") for i in range(100, 300, 3)]},
    }


def test_archive_days_with_repeated_keys_split_or_corrected_are_written_by_row_group(tmp_path, monkeypatch):
    """The day's surviving rows read and written a cache row group at a time, the cache's
    dictionaries passed through: the same frame as deduplicating the day in memory (keep-last,
    file order), the same column types for polars and pyarrow as a polars-written file."""
    import pyarrow.parquet as pq

    from wxpipeline.formats import jsontools
    from wxpipeline.resources.staged_io import StagedStore

    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 3000)  # several row groups per file
    cases = _cases()
    for name, files in cases.items():
        folder = _archive(tmp_path / name, files)
        rows, scan = folder.day_rows("wecom_archive", DAY)
        path = StagedStore(tmp_path / name / "staged").write("wecom_messages", DAY.isoformat(), rows)
        written = pl.read_parquet(path)
        whole = scan.raw.collect().filter(pl.col("sent_at").dt.date() == DAY)
        expected = whole.unique("msgid", keep="last", maintain_order=True)
        assert rows.how == "row groups" and len(rows.groups) > 2, name
        assert written.schema == whole.schema and written.equals(expected), name
        assert written.equals(rows.frame.collect()) and rows.rows == written.height, name
        # the plan decided the surviving rows by msgid: its proof is bound to the file just written
        proof = rows.key_proof()
        assert proof.key == ("msgid",) and proof.rows == written.height and proof.holds(("msgid",)), name
        polars_written = tmp_path / name / "polars.parquet"
        expected.write_parquet(polars_written)
        assert pq.read_table(path).equals(pq.read_table(polars_written)), name  # other readers see the same table
        # the row groups encoded here leave the key and the time column uncompressed, LZ4 the rest
        meta = pq.read_metadata(path)
        codecs = {(c.path_in_schema, c.compression) for g in range(meta.num_row_groups)
                  for c in (meta.row_group(g).column(i) for i in range(meta.num_columns))}
        assert {("msgid", "UNCOMPRESSED"), ("sent_at", "UNCOMPRESSED"), ("text", "LZ4")} <= codecs, name
        assert not {("msgid", "LZ4"), ("sent_at", "LZ4"), ("text", "UNCOMPRESSED")} & codecs, name
    corrected = pl.read_parquet(tmp_path / "corrected" / "staged" / "wecom_messages" / f"{DAY}.parquet")
    assert corrected.filter(pl.col("msgid") == "m100")["text"].item() == "更正100"
    assert corrected.height == 300 and corrected["msgid"].to_list()[-1] == "m298"  # the re-export's rows last
    # a file written to since is no longer the one the proof is about
    pl.read_parquet(path).head(10).write_parquet(path)
    assert not rows.key_proof().holds(("msgid",))


def test_a_cache_column_whose_dictionary_overflowed_is_read_plain(tmp_path):
    """pyarrow's writer writes plain pages once a chunk's dictionary passes 1 MB: such a column
    (distinct texts) is not read as a dictionary, a repeating one is."""
    import pyarrow.parquet as pq

    from wxpipeline.resources.day_files import cache_file

    n = 30_000
    start = pl.datetime(2026, 9, 22, time_zone="UTC")
    df = pl.DataFrame({
        "t": pl.datetime_range(start, start + pl.duration(seconds=n - 1), "1s", eager=True),
        "distinct": [f"第{i}条消息，内容各不相同，足够长以至于字典超过一兆字节的上限" for i in range(n)],
        "repeating": [f"房间{i % 50}" for i in range(n)],
    })
    path = tmp_path / "c.parquet"
    pq.write_table(df.to_arrow(), path, use_dictionary=["distinct", "repeating"], row_group_size=n)
    assert all(pq.read_metadata(path).row_group(0).column(i).has_dictionary_page for i in (1, 2))
    assert cache_file(path, "t").dictionary == {"repeating"}


def test_whole_cache_row_groups_are_copied_and_the_rest_encoded_on_threads(tmp_path, monkeypatch):
    """A cache row group whose every row survives is copied byte for byte into the staged file,
    the others encoded on threads and stitched in order: the same frame as deduplicating the day
    in memory, and the same bytes whatever the number of threads."""
    import pyarrow.parquet as pq

    from wxpipeline.formats import jsontools
    from wxpipeline.resources import day_encode
    from wxpipeline.resources import parquet_stitch as stitch

    monkeypatch.setattr(jsontools, "CHUNK_BYTES", 3000)  # several row groups per file
    monkeypatch.setattr(day_encode, "COPY_ROWS", 1)  # this test's row groups are small
    for name, files in _cases().items():
        folder = _archive(tmp_path / name, files)
        rows, scan = folder.day_rows("wecom_archive", DAY)
        expected = scan.raw.collect().filter(pl.col("sent_at").dt.date() == DAY).unique(
            "msgid", keep="last", maintain_order=True)
        written = {}
        for threads in (1, 3):
            path = tmp_path / name / f"{threads}.parquet"
            day_encode.write_row_groups(rows.groups, rows.frame.collect_schema(), path, threads=threads)
            assert pl.read_parquet(path).equals(expected), (name, threads)
            written[threads] = path.read_bytes()
        assert written[1] == written[3], name
        # every whole row group's chunks are in the staged file as they are in the cache
        with open(path, "rb") as fh:
            staged = stitch.row_groups(stitch.read_footer(fh))
        whole = [(info, g) for info, g, kept in rows.groups if kept is None]
        assert whole and len(staged) >= len(whole), name
        for info, g in whole:
            with open(info.path, "rb") as fh:
                chunks = stitch.chunks(stitch.row_groups(stitch.read_footer(fh))[g])
                assert b"".join(_chunk_bytes(fh, c) for c in chunks) in written[1], (name, g)
        assert pq.read_metadata(path).num_rows == expected.height


def test_a_run_of_lines_replaced_later_in_its_block_is_a_cache_row_group_of_its_own(tmp_path, monkeypatch):
    """A run of a parsed block's lines that later lines of the block replace (a retry, an
    overlapping re-export) is cached as a row group of its own: the day's staging drops that group
    whole and copies the rest of the block, nothing re-encoded (one group a block re-encoded all 44)."""
    import pyarrow.parquet as pq

    from wxpipeline.resources import day_encode, exports
    from wxpipeline.resources.staged_io import StagedStore

    monkeypatch.setattr(exports, "MIN_SPLIT_RUN", 3)
    monkeypatch.setattr(day_encode, "COPY_ROWS", 1)  # this test's row groups are small
    lines = [(f"m{i}", i * 60, f"第{i}条") for i in range(40)] + [(f"m{i}", i * 60, f"更正{i}") for i in range(12, 16)]
    folder = _archive(tmp_path, {"a.jsonl": lines})  # one block of 44 lines
    rows, scan = folder.day_rows("wecom_archive", DAY)
    meta = pq.ParquetFile(scan.parquet[0]).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [12, 4, 28]
    assert [(g, kept) for _, g, kept in rows.groups] == [(0, None), (2, None)]  # m12-m15's first copies: group 1
    path = StagedStore(tmp_path / "staged").write("wecom_messages", DAY.isoformat(), rows)
    expected = scan.raw.collect().unique("msgid", keep="last", maintain_order=True)
    assert pl.read_parquet(path).equals(expected) and expected.height == 40
    assert [pq.read_metadata(path).row_group(g).num_rows for g in range(2)] == [12, 28]


def test_a_small_whole_row_group_between_copied_ones_is_copied_not_encoded(tmp_path, monkeypatch):
    """A whole surviving cache row group smaller than COPY_ROWS whose neighbours are copied would
    be encoded as a row group of its own: it is copied as it is (nothing encoded), the staged
    file's row groups the same."""
    import pyarrow.parquet as pq

    from wxpipeline.resources import day_encode, exports
    from wxpipeline.resources import parquet_stitch as stitch
    from wxpipeline.resources.staged_io import StagedStore

    monkeypatch.setattr(exports, "MIN_SPLIT_RUN", 3)
    monkeypatch.setattr(day_encode, "COPY_ROWS", 20)  # the block's first part (12 rows) is below it
    encoded = []
    monkeypatch.setattr(stitch.Stitcher, "add_file", lambda self, data: encoded.append(data))
    lines = [(f"m{i}", i * 60, f"第{i}条") for i in range(40)] + [(f"m{i}", i * 60, f"更正{i}") for i in range(12, 16)]
    folder = _archive(tmp_path, {"a.jsonl": lines})  # one block of 44 lines: groups of 12, 4 (replaced), 28 rows
    rows, scan = folder.day_rows("wecom_archive", DAY)
    assert [(g, kept) for _, g, kept in rows.groups] == [(0, None), (2, None)]
    path = StagedStore(tmp_path / "staged").write("wecom_messages", DAY.isoformat(), rows)
    assert not encoded  # both copied
    expected = scan.raw.collect().unique("msgid", keep="last", maintain_order=True)
    assert pl.read_parquet(path).equals(expected)
    assert [pq.read_metadata(path).row_group(g).num_rows for g in range(2)] == [12, 28]
    # two small ones side by side are still encoded together, a lone one between copied ones is not
    small = [(None, 0, None)] * 4
    assert day_encode._alone(small, {0, 3}) == [] and day_encode._alone(small, {0, 2}) == [1, 3]


def test_a_block_s_row_groups_split_out_its_replaced_runs_only():
    from wxpipeline.resources.exports import MAX_SPLIT_RUNS, MIN_SPLIT_RUN, block_groups

    def groups(ids: list[int]) -> list[int]:
        return block_groups(pl.DataFrame({"msgid": [f"m{i}" for i in ids]}), ["msgid"])

    run = MIN_SPLIT_RUN
    assert groups(list(range(1000))) == [1000]  # no key repeated
    # a run replaced right after it (a retry), a run replaced at the block's end (a re-export)
    retry = list(range(100)) + list(range(100, 100 + run)) + list(range(100, 100 + run)) + list(range(500, 600))
    assert groups(retry) == [100, run, run + 100]
    tail = list(range(300)) + list(range(50, 50 + run + 1))
    assert groups(tail) == [50, run + 1, 300 - 50 - run - 1 + run + 1]
    assert groups(list(range(300)) + list(range(10, 10 + run - 1))) == [300 + run - 1]  # too short a run
    many = [-1] + [i for k in range(MAX_SPLIT_RUNS + 2) for i in list(range(k * 1000, k * 1000 + run)) * 2]
    assert len(groups(many)) == 2 * MAX_SPLIT_RUNS + 1 and sum(groups(many)) == len(many)


def _chunk_bytes(fh, chunk) -> bytes:
    from wxpipeline.resources import parquet_stitch as stitch

    start, length = stitch.chunk_span(chunk)
    fh.seek(start)
    return fh.read(length)


def test_a_cache_file_wholly_on_the_day_is_hashed_unfiltered_and_a_null_time_is_filtered(tmp_path):
    """When the statistics say every row of the touched files is on the day (and no time is null),
    the plan hashes the keys without filtering or numbering them in the scan: the same rows either way."""
    from datetime import datetime, timezone

    from wxpipeline.resources.day_files import _inside, _us, cache_file, plan_day
    from wxpipeline.resources.staged_io import StagedStore

    lo, hi = datetime(2026, 9, 22, tzinfo=timezone.utc), datetime(2026, 9, 23, tzinfo=timezone.utc)
    times = [datetime(2026, 9, 22, h, tzinfo=timezone.utc) for h in (1, 2, 3, 4)]
    whole = pl.DataFrame({"k": ["a", "b", "a", "c"], "t": times, "v": [1, 2, 3, 4]})
    holed = whole.with_columns(pl.when(pl.col("v") == 2).then(None).otherwise(pl.col("t")).alias("t"))
    for name, df, inside, expected in (("whole", whole, True, [2, 3, 4]), ("holed", holed, False, [3, 4])):
        path = tmp_path / f"{name}.parquet"
        df.write_parquet(path, statistics=True)
        assert _inside(cache_file(path, "t"), _us(lo), _us(hi)) is inside, name
        rows = plan_day([path], df.schema, ["k"], "t", lo, hi)
        assert rows.frame.collect()["v"].to_list() == expected and rows.rows == len(expected), name
        written = StagedStore(tmp_path / name).write("t", "d", rows)
        assert pl.read_parquet(written)["v"].to_list() == expected, name


def test_the_plan_takes_the_scans_columns_from_the_first_files_footer(tmp_path):
    """Without a schema given, the plan compares each touched cache file with the first one's
    footer: what polars' scan of the files takes. Files of other columns: no plan (the scan's query)."""
    from datetime import datetime, timezone

    from wxpipeline.resources.day_files import plan_day

    lo, hi = datetime(2026, 9, 22, tzinfo=timezone.utc), datetime(2026, 9, 23, tzinfo=timezone.utc)
    t = [datetime(2026, 9, 22, h, tzinfo=timezone.utc) for h in (1, 2)]
    first, same, wider = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    pl.DataFrame({"k": ["a", "b"], "t": t, "v": [1, 2]}).write_parquet(first)
    pl.DataFrame({"k": ["b", "c"], "t": t, "v": [3, 4]}).write_parquet(same)
    pl.DataFrame({"k": ["d", "e"], "t": t, "v": [5, 6], "w": ["x", "y"]}).write_parquet(wider)
    files = [first, same]
    scanned = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore").collect_schema()
    given, footer = plan_day(files, scanned, ["k"], "t", lo, hi), plan_day(files, None, ["k"], "t", lo, hi)
    assert given.frame.collect().equals(footer.frame.collect())
    assert footer.frame.collect()["v"].to_list() == [1, 3, 4] and footer.rows == 3
    assert plan_day([first, wider], None, ["k"], "t", lo, hi) is None
    assert plan_day([wider, first], None, ["k"], "t", lo, hi) is None


def test_a_row_groups_surviving_rows_are_filtered_column_by_column_whatever_their_type():
    """`day_encode._take` keeps exactly the rows named, in order, for each kind of column a cache
    row group holds (string views, dictionaries with nulls, lists of dictionaries, timestamps)."""
    import numpy as np
    import pyarrow as pa

    from wxpipeline.resources.day_encode import _take

    n = 50
    msgid = pl.Series([f"m{i}" for i in range(n)]).to_arrow(compat_level=pl.CompatLevel.newest())
    table = pa.table({
        "msgid": msgid,  # string views, as polars reads and writes them
        "room": pa.array([None if i % 4 == 0 else f"r{i % 3}" for i in range(n)]).dictionary_encode(),
        "urls": pa.array([[f"u{i % 2}"] * (i % 3) for i in range(n)], pa.large_list(pa.string()))
        .cast(pa.large_list(pa.dictionary(pa.int32(), pa.string()))),
        "n": pa.array(range(n), pa.int64()),
    })
    assert pa.types.is_string_view(table.schema.field("msgid").type)
    rows = np.array([0, 1, 2, 7, 8, 20, 48, 49])
    taken = _take(table, rows)
    assert taken.schema == table.schema
    assert pl.from_arrow(taken).equals(pl.from_arrow(table)[rows.tolist()])


def test_repeated_rows_are_the_positions_of_hashes_seen_more_than_once():
    from wxpipeline.hashes import repeated_rows

    chunked = pl.concat([pl.Series([3, 1, 3], dtype=pl.UInt64), pl.Series([2, 3, 1, 5], dtype=pl.UInt64)],
                        rechunk=False)
    assert chunked.n_chunks() == 2 and repeated_rows(chunked).tolist() == [0, 1, 2, 4, 5]
    assert chunked.to_list() == [3, 1, 3, 2, 3, 1, 5]  # sorted in a copy, not in place
    assert repeated_rows(pl.Series([1, 2], dtype=pl.UInt64)).tolist() == []
    assert repeated_rows(pl.Series([None, 4, None, 4, 6], dtype=pl.UInt64)).tolist() == [1, 3]  # nulls aside
