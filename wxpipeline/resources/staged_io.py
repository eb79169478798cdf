"""Staged tables: WXPIPELINE_HOME/staged/<asset>/<YYYY-MM-DD>.parquet, written and read by the
`staged_io` IO manager and read by the findings assets' frame builders (`StagedStore`)."""

import os
import tempfile
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from wxpipeline.hashes import file_identity
from wxpipeline.reports.markdown import markdown_table
from wxpipeline.resources.day_files import DayRows
from wxpipeline.settings import file_mode, settings


class StagedStore:
    """Where staged tables live: WXPIPELINE_HOME/staged/<asset>/<YYYY-MM-DD>.parquet."""

    def __init__(self, base_dir: str | Path):
        self.base = Path(base_dir)

    def path(self, asset: str, partition: str | None) -> Path:
        return self.base / asset / f"{partition}.parquet" if partition else self.base / f"{asset}.parquet"

    def read(self, asset: str, partition: str | None = None) -> pl.DataFrame:
        p = self.path(asset, partition)
        if not p.exists():
            raise FileNotFoundError(f"staged table {asset} {partition or ''} not materialized yet: {p}")
        return pl.read_parquet(p)

    def scan_days(self, asset: str, days: list[date], columns: list[str] | None = None) -> pl.LazyFrame:
        """The staged partitions of `asset` for `days` that exist (a day not staged yet has no
        records to offer), as one lazy frame."""
        files = [p for d in days if (p := self.path(asset, d.isoformat())).exists()]
        if not files:
            return empty_staged(asset, columns).lazy()
        lf = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore") if len(files) > 1 \
            else pl.scan_parquet(files[0])
        return lf.select(columns) if columns else lf

    def write(self, asset: str, partition: str | None, df: pl.DataFrame | pl.LazyFrame | DayRows) -> Path:
        """Write-then-rename; a LazyFrame is streamed to the file (never held whole in memory), a
        day of an export kind is copied or re-encoded from the parse cache (`DayRows.write`)."""
        p = self.path(asset, partition)
        p.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own per writer: two runs of the same day may stage it at once, and the
        # rename makes whichever finishes last win whole (both wrote the same records)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=".tmp", dir=p.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            # zstd level 1: files within 3 % of the default level's size for a quarter less CPU
            # (1M staged messages: 1.2 instead of 1.5 s to write); reading is unchanged
            if isinstance(df, DayRows):
                df.write(tmp)
            elif isinstance(df, pl.LazyFrame):
                df.sink_parquet(tmp, compression_level=1)
            else:
                df.write_parquet(tmp, compression_level=1)
            os.chmod(tmp, file_mode())
            ours = os.stat(tmp)
            os.replace(tmp, p)
            if isinstance(df, DayRows):
                df.written = p
                # the file as written (a rename changes its change time): the contract trusts
                # staging's proof of distinct keys for this file only (`hashes.DistinctKeys`); None
                # when another writer's file took its place already
                now = file_identity(p)
                df.written_identity = now if now[:2] == (ours.st_dev, ours.st_ino) else None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return p


def empty_staged(asset: str, columns: list[str] | None) -> pl.DataFrame:
    from wxpipeline.derive import membership
    from wxpipeline.formats.schemas import SCHEMAS

    schema = dict(membership.SCHEMA) if asset == "wecom_membership_timeline" else SCHEMAS[asset]
    df = pl.DataFrame(schema=schema)
    return df.select(columns) if columns else df


class StagedParquetIOManager(dg.ConfigurableIOManager):
    """Stores staged polars frames as parquet, one file per partition, under WXPIPELINE_HOME/staged."""

    base_dir: str

    def _key(self, context) -> tuple[str, str | None]:
        name = context.asset_key.path[-1]
        # has_asset_partitions, not has_partition_key: an unpartitioned asset in a partitioned run
        # still sees the run's partition key.
        return name, (context.asset_partition_key if context.has_asset_partitions else None)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame | DayRows) -> None:
        path = StagedStore(self.base_dir).write(*self._key(context), obj)
        if isinstance(obj, (pl.LazyFrame, DayRows)):  # its size is known once written
            # the row count is the footer's; the head, the first rows read (a small day's rows are
            # in memory, the frame just written: two reads of its file less, ~1.5 ms a table)
            data = obj.data if isinstance(obj, DayRows) else None
            written = pl.scan_parquet(path) if data is None else data.lazy()
            meta = {"dagster/row_count": dg.MetadataValue.int(written.select(pl.len()).collect().item()),
                    # masked: the event log is readable by every UI user
                    "preview": dg.MetadataValue.md(preview(written.head(5).collect()))}
            if isinstance(obj, DayRows):
                meta["written_by"] = dg.MetadataValue.text(obj.how)
            context.add_output_metadata(meta)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame:
        """A DataFrame, or a LazyFrame scan when the input is annotated `pl.LazyFrame` (a reader
        that needs a few columns then reads only those)."""
        if context.dagster_type.typing_type is pl.LazyFrame:
            name, partition = self._key(context)
            path = StagedStore(self.base_dir).path(name, partition)
            if not path.exists():
                raise FileNotFoundError(f"staged table {name} {partition or ''} not materialized yet: {path}")
            return pl.scan_parquet(path)
        return StagedStore(self.base_dir).read(*self._key(context))


def staged_store() -> StagedStore:
    return StagedStore(settings().staged_dir)


# free text and contact columns stay out of the UI's event log; other cells are masked
PREVIEW_DROPPED = ("source_file", "text", "content", "content_text", "notice", "digest", "phone", "note", "urls")


def preview(df: pl.DataFrame, rows: int = 5) -> str:
    """A few staged rows for the UI, PII masked (the event log is readable by every UI user)."""
    from wxpipeline.reports.masking import mask_text

    head = df.drop(*PREVIEW_DROPPED, strict=False).head(rows)
    # a few cells: masked as Python strings (a polars UDF per column cost ~0.15 ms of set-up each,
    # ~1 ms a table, paid by every staged table of every day); a null stays null
    masked = head.with_columns(pl.Series(c, [None if v is None else mask_text(v) for v in head[c].to_list()],
                                         dtype=pl.String)
                               for c in head.columns if head.schema[c] == pl.String)
    return markdown_table(masked)
