"""The exports folder in the asset graph: one external asset per export folder, upstream of the
staged tables, so the lineage view reads exports → staged → findings → report. Dagster does not
materialize these; the exports sensor notices their files changing (sensors.py)."""

import dagster as dg

from wxpipeline.factories import OWNERS
from wxpipeline.formats.registry import EXPORT_KINDS

# a group snapshot file feeds two staged tables; it is one export
_FOLDER_OF = {"wecom_group_members": "wecom_groups"}


def export_key(kind: str) -> dg.AssetKey:
    return dg.AssetKey(["exports", _FOLDER_OF.get(kind, kind)])


def _spec(kind: str) -> dg.AssetSpec:
    k = EXPORT_KINDS[kind]
    return dg.AssetSpec(
        key=export_key(kind),
        group_name="exports",
        kinds={"file"},
        owners=OWNERS,
        description=(
            f"Export files {', '.join(k.globs)} in WXPIPELINE_EXPORTS_DIR, as delivered (late, in batches, "
            f"corrected re-exports replace earlier files). Natural key: {', '.join(k.natural_key)}. "
            "Not materialized by Dagster: `exports_sensor` re-stages the days a changed file touches."
        ),
        metadata={"globs": dg.MetadataValue.json(list(k.globs)), "parser": k.parser_path},
    )


export_specs = [_spec(kind) for kind in EXPORT_KINDS if kind not in _FOLDER_OF]
