"""What a fresh `switchboard` process loads before it can answer, in processes of their own.

`--help` and a configuration mistake must not wait for litellm, scikit-learn or matplotlib
(seconds of imports), and routing a message needs no LLM layer unless a model is configured
for routing. Each check runs in a new interpreter, since this test process has imported
everything already. How fast this is is measured by `bench/startup.py`, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("litellm", "sklearn", "matplotlib", "stripe", "onnxruntime", "opentelemetry.sdk")
PRODUCT_ENV = ("SLACK_", "SWITCHBOARD_", "OTEL_", "DATABASE_URL", "PORT", "LOG_LEVEL")

# Runs the CLI in this interpreter, then prints which heavy modules it imported.
PROBE = """
import json, sys
from bot.cli.main import cli
try:
    cli(prog_name="switchboard", args=sys.argv[1:])
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = [m for m in WATCHED if m in sys.modules or any(k.startswith(m + ".") for k in sys.modules)]
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
""".replace("WATCHED", repr((*HEAVY, "slack_bolt", "agents.llm")))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRODUCT_ENV)}
    return {**env, **extra}


def _probe(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *said, last = done.stderr.strip().splitlines()
    result = json.loads(last)
    return int(result["code"] or 0), list(result["heavy"]), "\n".join(said)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(("--help",), {}, id="help"),
        pytest.param(("run", "--help"), {}, id="run-help"),
        pytest.param(("digest", "--help"), {}, id="digest-help"),
        pytest.param(("run",), {"PORT": "abc"}, id="config-error"),
        pytest.param(("route", "hi"), {"DATABASE_URL": "mysql://x/y"}, id="route-config-error"),
    ],
)
def test_help_and_configuration_mistakes_load_nothing_heavy(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    code, heavy, said = _probe(tmp_path, *args, **env)
    assert code == (2 if env else 0), said
    assert heavy == [], f"{' '.join(args)} imported {heavy}"
    if env:
        [line] = said.splitlines()
        assert line.startswith("switchboard: ")


def test_route_loads_no_llm_layer_and_no_training_library(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ("route", "I was charged twice")
    env = {"SWITCHBOARD_CACHE_DIR": str(cache), "DATABASE_URL": "sqlite:///sb.db"}
    first = _probe(tmp_path, *args, **env)  # trains and fills the cache
    assert first[0] == 0, first[2]
    code, heavy, said = _probe(tmp_path, *args, **env)
    assert code == 0, said
    assert not {"litellm", "agents.llm", "sklearn", "slack_bolt"} & set(heavy), heavy


def test_the_installed_entry_point_starts(tmp_path: Path) -> None:
    """The one check of the `switchboard` script itself; every other CLI test runs in process."""
    script = Path(sys.executable).parent / "switchboard"
    done = subprocess.run(
        [str(script), "run"],
        env=_env(PORT="abc"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("switchboard: PORT: 'abc'"), done.stderr
    assert done.stdout == ""
