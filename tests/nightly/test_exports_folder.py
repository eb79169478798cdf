"""`run` and `nightly` refuse a missing or empty exports folder, naming it (it would otherwise
produce a report in which every clause passed)."""

import pytest

from wxpipeline.cli import main


@pytest.mark.parametrize("command", [["run", "--from", "2026-10-01", "--to", "2026-10-02"],
                                     ["nightly", "--date", "2026-10-01"]])
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_exports_folder_is_an_error(tmp_path, monkeypatch, capsys, command, state):
    folder = tmp_path / "exports"
    if state == "empty":
        (folder / "wecom_archive").mkdir(parents=True)
        (folder / "notes.txt").write_text("not an export", "utf-8")
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(folder))
    monkeypatch.delenv("WXPIPELINE_DATABASE_URL", raising=False)
    assert main(command) != 0
    err = capsys.readouterr().err
    assert str(folder) in err and ("does not exist" if state == "missing" else "holds no export files") in err
    assert not (tmp_path / "home" / "findings.db").exists()  # nothing judged
