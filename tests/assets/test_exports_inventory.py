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
