"""The findings assets' exports inventory is reused while the folder is unchanged, and built
again when a file arrives, changes or goes (coverage must follow the folder)."""

from wxpipeline.arrival import inventory
from wxpipeline.factories.findings import exports_inventory
from wxpipeline.resources.exports import ExportsFolder

from .exports_fixture import bill_csv, write_exports


def test_inventory_reused_until_the_folder_changes(tmp_path):
    root = write_exports(tmp_path / "exports")
    exports = ExportsFolder(exports_dir=str(root), cache_dir=str(tmp_path / "cache"))
    first = exports_inventory(exports)
    assert first == inventory(exports) and "wechat_pay/a.csv" in first
    assert exports_inventory(exports) is first  # unchanged folder: nothing rebuilt

    (root / "wechat_pay/d.csv").write_text(bill_csv("李娜-市场", [("2026-09-23 09:00:00", "5.00", "T400")]), "utf-8")
    arrived = exports_inventory(exports)
    assert "wechat_pay/d.csv" in arrived and arrived == inventory(exports)

    (root / "ledger/2026-09.csv").write_text(
        "entry_id,employee_id,paid_at,amount,transaction_id,counterparty,purpose\n"
        "L9,E0001,2026-09-25 12:00:00,6000.00,T100,京东,年会\n", "utf-8")
    changed = exports_inventory(exports)
    assert changed["ledger/2026-09.csv"][0].days == ["2026-09-25"] and changed == inventory(exports)

    (root / "wechat_pay/d.csv").unlink()
    assert "wechat_pay/d.csv" not in exports_inventory(exports)


def test_inventory_reads_smallest_files_first_and_keeps_the_listed_order(tmp_path, monkeypatch):
    from wxpipeline import arrival

    root = write_exports(tmp_path / "exports")
    big = root / "wechat_pay/b.csv"
    big.write_text(bill_csv("王芳-行政", [(f"2026-09-2{i % 9} 09:0{i % 10}:00", "1.00", f"T9{i:03}")
                                         for i in range(200)]), "utf-8")
    (root / "wecom_groups").mkdir()
    (root / "wecom_groups/snap.json").write_text(  # one file, two kinds (groups and members)
        '{"snapshot_time": 1758500000, "group_chat_list": [{"chat_id": "wrA", "name": "销售群", "owner": "u1", '
        '"create_time": 1758400000, "member_list": [{"userid": "u1", "type": 1, "join_time": 1758400000}]}]}', "utf-8")
    exports = ExportsFolder(exports_dir=str(root), cache_dir=str(tmp_path / "cache"))
    read = []
    file_info = arrival.file_info
    monkeypatch.setattr(arrival, "file_info", lambda ex, kind, path: read.append((kind, path)) or file_info(ex, kind, path))
    inv = inventory(exports)

    listed = arrival.list_files(exports)
    assert list(inv) == list(listed)  # the listed order, whatever order the files were read in
    sizes = [path.stat().st_size for _, path in read]
    assert sizes == sorted(sizes) and read[-1][1] == big
    assert sorted(read) == sorted(pair for pairs in listed.values() for pair in pairs)  # each once
    assert len(listed["wecom_groups/snap.json"]) == 2 and inv["wecom_groups/snap.json"][1].days
    for pairs in listed.values():  # the kinds reading one file, one after the other
        at = [read.index(pair) for pair in pairs]
        assert at == list(range(at[0], at[0] + len(at)))
    assert inv == inventory(exports)  # the same infos as a warm read
