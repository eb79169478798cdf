#!/usr/bin/env python3
"""Set up and run wxpipeline with nothing but Python 3.11+.

    python3 tasks.py demo   # venv + install + demo exports + run the whole demo period
    python3 tasks.py test   # venv + install + the test suite
    python3 tasks.py ui     # the Dagster UI through `dg dev` on http://127.0.0.1:3000 (persistent instance)
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("WXPIPELINE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
DEMO_FROM, DEMO_TO = "2026-09-18", "2026-10-17"


def sh(*cmd: str, **env: str) -> None:
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env})
    if r.returncode:
        sys.exit(r.returncode)


def setup() -> None:
    """Create the virtualenv and install the project, again only when pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"wxpipeline needs Python 3.11+, this is {sys.version.split()[0]}")
    stamp = VENV / ".installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want:
        compile_bytecode()
        return
    if not (BIN / "python").exists():
        print(f"creating virtualenv {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    sh(str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip")
    sh(str(BIN / "python"), "-m", "pip", "install", "-q", "-e", ".[test]")
    stamp.write_text(want)
    compile_bytecode()


def compile_bytecode() -> None:
    """Byte-compile the project's own modules, as installing a wheel would: an editable install
    leaves them as source, and where PYTHONDONTWRITEBYTECODE is set (as on the machines this
    project is built and tested on) every process (`wxpipeline run` and its helper, each test's
    subprocess) compiled the modules it imports again (all ~21k lines: 0.25 CPU s). Up-to-date
    files are skipped; an edited module is still compiled from source on import (Python checks
    the source's mtime against the cached file)."""
    subprocess.run([str(BIN / "python"), "-m", "compileall", "-q", str(ROOT / "wxpipeline")], cwd=ROOT,
                   check=False, stdout=subprocess.DEVNULL)


def home() -> Path:
    return Path(os.environ.get("WXPIPELINE_HOME") or ROOT / ".wxpipeline").resolve()


def demo() -> None:
    setup()
    env = {"WXPIPELINE_HOME": str(home())}
    sh(str(BIN / "wxpipeline"), "demo", **env)
    sh(str(BIN / "wxpipeline"), "run", "--from", DEMO_FROM, "--to", DEMO_TO, **env)
    print(f"\nfindings: {BIN / 'wxpipeline'} findings --from {DEMO_FROM} --to {DEMO_TO}")
    print("UI: python3 tasks.py ui   then open http://127.0.0.1:3000")


def test() -> None:
    setup()
    sh(str(BIN / "python"), "-m", "pytest", *sys.argv[2:])


def ui() -> None:
    setup()
    h = home()
    dagster_home = os.environ.get("DAGSTER_HOME") or str(h / "dagster")
    # writes dagster.yaml (run queue limit) and records the first partition day on first use, as
    # `wxpipeline run` does, and marks runs a kill/crash/reboot left in progress as failed
    sh(str(BIN / "python"), "-c", "from wxpipeline.settings import open_dagster_instance as o; "
       "from wxpipeline.stale_runs import sweep_stale_runs as s; i = o(); "
       "print(*(f'stale run {r} marked failed' for r in s(i, 'tasks.py ui')), sep='\\n')",
       WXPIPELINE_HOME=str(h), DAGSTER_HOME=dagster_home)
    # `dg dev` loads the project from [tool.dg] in pyproject.toml (workspace.yaml still serves
    # `dagster dev`); VIRTUAL_ENV + --use-active-venv: the code server runs in this venv
    env = {**os.environ, "WXPIPELINE_HOME": str(h), "DAGSTER_HOME": dagster_home, "VIRTUAL_ENV": str(VENV),
           "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning"}
    cmd = [str(BIN / "dg"), "dev", "--use-active-venv", "-h", "127.0.0.1", "-p", "3000"]
    print("+", " ".join(cmd), flush=True)
    sys.exit(run_process_group(cmd, env))


def run_process_group(cmd: list[str], env: dict, grace_s: float = 20.0) -> int:
    """Run `cmd` in its own process group and stop the whole group on Ctrl-C or SIGTERM: the
    leader gets SIGINT (dg dev then shuts its webserver, daemon and code servers down),
    and whatever is still alive after `grace_s` is killed, so nothing is left running."""
    import signal
    import time

    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    stopping = []

    def stop(signum, _frame):
        if not stopping:
            stopping.append(time.monotonic())
            print(f"\nstopping the Dagster UI (signal {signum}) ...", flush=True)
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            rc = proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if stopping and time.monotonic() - stopping[0] > grace_s:
                os.killpg(proc.pid, signal.SIGKILL)
    try:  # children that outlived the leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return 0 if stopping else rc


if __name__ == "__main__":
    tasks = {"setup": setup, "demo": demo, "test": test, "ui": ui}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        sys.exit(__doc__)
    tasks[sys.argv[1]]()
