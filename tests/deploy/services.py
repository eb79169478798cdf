"""Long-running processes the deployment test starts (dagster-daemon, dagster-webserver), each
in its own process group so that stopping it also stops what it spawned (code servers, run
workers); and a minimal client for the webserver's GraphQL API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


class Service:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path, log_dir: Path):
        self.name, self.cmd = name, cmd
        self.log = log_dir / f"{name}.log"
        self._log_file = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # its own process group: pgid == pid
        self.started = time.time()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text("utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM to the whole group (the daemon and webserver shut their children down), then
        SIGKILL to whatever is left after `grace_s`; returns once the group is empty."""
        pgid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _group_alive(pgid):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.2)
        if _group_alive(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        for _ in range(100):  # children reparented to init are reaped asynchronously
            if not _group_alive(pgid):
                break
            time.sleep(0.1)
        self._log_file.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a foreign process took the id
        return False
    # zombies of the group count as gone: only the leader can be one (we reap it in stop)
    return True


def wait_for(what: str, predicate, timeout_s: float, services: list[Service] = (), poll_s: float = 1.0):
    """Poll `predicate()` until it returns something truthy (returned); fail after `timeout_s`,
    or as soon as one of `services` has exited, with the tails of their logs."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        dead = [s for s in services if not s.alive()]
        if dead or time.monotonic() > deadline:
            why = f"{', '.join(s.name for s in dead)} exited" if dead else f"timed out after {timeout_s:.0f}s"
            logs = "\n".join(f"--- {s.name} ({s.log}) ---\n{s.tail()}" for s in services)
            raise AssertionError(f"waiting for {what}: {why}\n{logs}")
        time.sleep(poll_s)


class GraphQL:
    """POST queries to dagster-webserver's /graphql (what the UI does)."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            out = json.loads(resp.read())
        assert not out.get("errors"), out["errors"]
        return out["data"]

    def ready(self) -> bool:
        try:
            return bool(self("{ version }")["version"])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
