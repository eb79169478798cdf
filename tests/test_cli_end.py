"""`wxpipeline run`/`nightly` end their process once done: output and exit handlers kept, code kept."""

import subprocess
import sys

SCRIPT = """
import atexit, sqlite3, sys
atexit.register(lambda: open(sys.argv[1], 'w').write('exit handlers ran'))
from wxpipeline import settings
settings.relax_sqlite_wal_fsync()
db = sys.argv[2]
conn = sqlite3.connect(db)
conn.execute('PRAGMA journal_mode=WAL')
conn.execute('create table t (x)')
conn.commit()
conn.close()
settings._KEPT_OPEN[db] = sqlite3.connect(db)  # as the kept connection of a Dagster database
print('summary printed', end='')  # buffered: must still reach the pipe
from wxpipeline.cli import end_process
end_process(int(sys.argv[3]))
print('never here')
"""


def test_the_process_ends_with_its_code_its_output_and_its_exit_handlers(tmp_path):
    db = tmp_path / "runs.db"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "atexit.txt"), str(db), "3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "summary printed"
    assert (tmp_path / "atexit.txt").read_text() == "exit handlers ran"
    assert not (tmp_path / "runs.db-wal").exists()  # the kept connection closed: checkpointed
    # near miss: code 0 is passed on as well
    again = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "atexit2.txt"), str(tmp_path / "b.db"), "0"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout == "summary printed"


def test_run_and_nightly_end_their_process_other_commands_return():
    from wxpipeline.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["run", "--from", "2026-10-01", "--to", "2026-10-01"]).ends_process
    assert parser.parse_args(["nightly"]).ends_process
    # near miss: a command that returns to the interpreter as before
    assert not getattr(parser.parse_args(["demo"]), "ends_process", False)
