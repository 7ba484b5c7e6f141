"""Every kind of configuration mistake gives one line naming the setting and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from storage.urls import normalize_url
from tests.helpers.cli import switchboard

MISTAKES = [
    pytest.param(
        {"DATABASE_URL": "mysql://root@db/x"}, (), "DATABASE_URL", id="unsupported-database"
    ),
    pytest.param(
        {"DATABASE_URL": "::not a url::"}, (), "DATABASE_URL", id="unparsable-database-url"
    ),
    pytest.param({"PORT": "eighty"}, (), "PORT", id="not-a-number"),
    pytest.param({"PORT": "70000"}, (), "PORT", id="out-of-range"),
    pytest.param(
        {"SLACK_BOT_TOKEN": "xapp-1-wrongkind"}, (), "SLACK_BOT_TOKEN", id="wrong-token-kind"
    ),
    pytest.param({"SLACK_APP_TOKEN": "xoxb-123"}, (), "SLACK_APP_TOKEN", id="wrong-app-token"),
    pytest.param({"SLACK_API_URL": "slack.com/api"}, (), "SLACK_API_URL", id="not-a-url"),
    pytest.param({"LOG_LEVEL": "LOUD"}, (), "LOG_LEVEL", id="not-a-choice"),
    pytest.param(
        {"SWITCHBOARD_CONFIG": "missing.toml"}, (), "SWITCHBOARD_CONFIG", id="missing-file"
    ),
    pytest.param(
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        (),
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        id="otlp-grpc-is-not-what-we-export",
    ),
]


@pytest.mark.parametrize(("env", "toml", "setting"), MISTAKES)
def test_environment_mistake_is_one_line(
    tmp_path: Path, env: dict[str, str], toml: tuple[str, ...], setting: str
) -> None:
    result = switchboard("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"switchboard: {setting}: ")
    assert "Set it" in lines[0] or "Point it" in lines[0]
    assert "Traceback" not in result.stderr


TOML_MISTAKES = [
    pytest.param(
        "[aproovals]\nchannel = 'C1'\n", "aproovals: is not a known key", id="unknown-section"
    ),
    pytest.param("[router\n", "is not valid TOML", id="syntax"),
    pytest.param("[router]\nmax_hops = 'three'\n", "router.max_hops", id="wrong-type"),
    pytest.param(
        "[[digests]]\nname = 'daily'\nchannel = 'C1'\ncron = '0 9 * *'\n",
        "digests[0].cron",
        id="bad-cron",
    ),
    pytest.param(
        "[[digests]]\nname = 'daily'\nchannel = 'C1'\ncron = '0 9 * * *'\ntimezone = 'Mars/Olympus'\n",
        "digests[0].timezone",
        id="bad-timezone",
    ),
    pytest.param(
        "[approvals]\nexpires_after = 'soon'\n", "approvals.expires_after", id="bad-duration"
    ),
    pytest.param("[billing]\nconnector = 'paypal'\n", "billing.connector", id="bad-choice"),
    pytest.param(
        "[budgets]\nper_channel_daily_usd = -1\n",
        "budgets.per_channel_daily_usd",
        id="negative-budget",
    ),
]


@pytest.mark.parametrize(("text", "expected"), TOML_MISTAKES)
def test_config_file_mistake_is_one_line_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "switchboard.toml").write_text(text)
    result = switchboard("config", "check", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "switchboard.toml" in lines[0] and expected in lines[0]


def test_secrets_are_never_echoed(tmp_path: Path) -> None:
    bad = switchboard(
        "config", "check", env={"SLACK_BOT_TOKEN": "hunter2-very-secret", "PORT": "1"}, cwd=tmp_path
    )
    assert "hunter2" not in bad.stderr + bad.stdout
    ok = switchboard(
        "config",
        "check",
        env={
            "SLACK_BOT_TOKEN": "xoxb-1-topsecret",
            "DATABASE_URL": "postgresql://app:pa55word@db.internal/sb",
        },
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "topsecret" not in ok.stdout and "pa55word" not in ok.stdout
    assert "SLACK_BOT_TOKEN" in ok.stdout and "set (hidden)" in ok.stdout


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = switchboard(
        "db",
        "upgrade",
        env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("switchboard: DATABASE_URL: cannot connect")


def test_valid_file_and_env_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "custom.toml").write_text(
        "[billing]\nrefund_approval_above = 100\n"
        "[approvals]\nexpires_after = '2h'\n"
        "[approvals.tools.issue_refund]\nusers = ['U1']\ngroups = ['S1']\nrequired = 2\n"
        "[agents.billing]\nmodel = 'openai/gpt-4o-mini'\n"
        "[[digests]]\nname = 'daily'\nchannel = 'C1'\ncron = '0 9 * * 1-5'\n"
        "timezone = 'Europe/Berlin'\nwindow = '7d'\n"
    )
    for name in ("SLACK_BOT_TOKEN", "SWITCHBOARD_CONFIG", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "abc")
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "custom.toml"))
    settings = load_settings()
    assert settings.file.billing.refund_approval_above == 100
    assert settings.file.approvals.expires_after.total_seconds() == 7200
    assert settings.file.approvals.tools["issue_refund"].required == 2
    assert settings.file.agents["billing"].model == "openai/gpt-4o-mini"
    assert settings.file.digests[0].window.days == 7
    settings.require("SLACK_SIGNING_SECRET")
    with pytest.raises(ConfigError) as missing:
        settings.require("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
    assert missing.value.setting == "SLACK_BOT_TOKEN"
    assert str(missing.value).startswith("SLACK_BOT_TOKEN: is not set. Set it to")


def test_heroku_postgres_scheme_is_accepted() -> None:
    assert normalize_url("postgres://u:p@h:5432/d").drivername == "postgresql+asyncpg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
