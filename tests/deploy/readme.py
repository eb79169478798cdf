"""The README's "Production" section as data: the environment it exports and the commands it
runs, so that the deployment test follows it verbatim (a change there changes the test)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass
class ProductionSteps:
    install: list[list[str]] = field(default_factory=list)  # pip install ...: done by the test environment
    env: dict[str, str] = field(default_factory=dict)  # name -> value as written (may reference $OTHER)
    commands: list[list[str]] = field(default_factory=list)  # in order: setup commands, then the services

    def command(self, program: str, *first_args: str) -> list[str]:
        """The one command that starts with `program first_args...` (e.g. "wxpipeline", "run")."""
        found = [c for c in self.commands if c[: 1 + len(first_args)] == [program, *first_args]]
        assert len(found) == 1, f"README Production: expected one `{program} {' '.join(first_args)}` command, found {found}"
        return found[0]


def production_steps(readme: Path = README) -> ProductionSteps:
    text = readme.read_text("utf-8")
    section = text.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README Production: no ```bash block"
    steps = ProductionSteps()
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            steps.env[name] = value
        elif words[:2] == ["pip", "install"]:
            steps.install.append(words)
        else:
            steps.commands.append(words)
    return steps


def expand(value: str, env: dict[str, str]) -> str:
    """`$NAME` / `${NAME}` from `env`, as the shell would expand the README's exports."""
    return re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", lambda m: env[m.group(1)], value)


def with_option(cmd: list[str], option: str, value: str) -> list[str]:
    """`cmd` with the value after `option` replaced (e.g. the webserver's port)."""
    i = cmd.index(option)
    return [*cmd[: i + 1], value, *cmd[i + 2:]]
