"""Settings: read once at the entry point, validated, and passed down.

Deployment facts and secrets come from environment variables with Slack's usual names; structured
configuration comes from `switchboard.toml` (see `config_file`). Any mistake becomes a
`ConfigError` that names the setting and the fix, which the CLI prints in one line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_file import FileConfig
from bot.errors import ConfigError
from storage.errors import DatabaseURLError

DEFAULT_CONFIG_FILE = "switchboard.toml"

# How to fix each environment setting, said once here and used by every error about it.
FIXES: dict[str, str] = {
    "SLACK_BOT_TOKEN": (
        "Set it to the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page"
    ),
    "SLACK_APP_TOKEN": (
        "Set it to an app-level token (xapp-...) with connections:write, "
        "or unset it to use HTTP mode"
    ),
    "SLACK_SIGNING_SECRET": "Set it to the Signing Secret from your app's Basic Information page",
    "SLACK_API_URL": "Set it to an http(s) URL ending in /api/, e.g. https://slack.com/api/",
    "DATABASE_URL": "Set it to sqlite:///path/to/switchboard.db or postgresql://user:pass@host:5432/db",
    "SWITCHBOARD_MODEL": (
        "Set it to a litellm model string such as openai/gpt-4o-mini, "
        "or unset it for the offline model"
    ),
    "SWITCHBOARD_CONFIG": (
        "Point it at an existing TOML file, or unset it to use ./switchboard.toml when present"
    ),
    "PORT": "Set it to a TCP port number between 1 and 65535",
    "LOG_LEVEL": "Set it to DEBUG, INFO, WARNING or ERROR",
    "SWITCHBOARD_LOG_FORMAT": "Set it to auto, json or console",
    "SWITCHBOARD_RETENTION_DAYS": "Set it to a whole number of days, at least 1",
    "SWITCHBOARD_MAX_CONCURRENCY": "Set it to a whole number between 1 and 256",
    "PAGERDUTY_ROUTING_KEY": "Set it to the Events API v2 integration key of a PagerDuty service",
    "STRIPE_API_KEY": (
        "Set it to a Stripe secret key (sk_live_...), or set billing.connector = 'demo'"
    ),
    "SWITCHBOARD_DEMO_LEDGER": "Set it to a writable path for the demo ledger's SQLite file",
    "SWITCHBOARD_CACHE_DIR": "Set it to a writable folder for the trained router's cache",
    "OTEL_SDK_DISABLED": "Set it to true to turn tracing off, or unset it",
    "OTEL_TRACES_EXPORTER": "Set it to otlp (the default when an endpoint is set) or none",
    "OTEL_EXPORTER_OTLP_ENDPOINT": (
        "Set it to the base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 "
        "(traces go to its /v1/traces)"
    ),
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": (
        "Set it to the full URL that receives traces, e.g. http://127.0.0.1:4318/v1/traces"
    ),
    "OTEL_EXPORTER_OTLP_PROTOCOL": (
        "Set it to http/protobuf (Switchboard exports over OTLP/HTTP with protobuf), or unset it"
    ),
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": (
        "Set it to http/protobuf (Switchboard exports over OTLP/HTTP with protobuf), or unset it"
    ),
    "OTEL_SERVICE_NAME": "Set it to the name traces should carry (default switchboard)",
    "OTEL_TRACES_SAMPLER": (
        "Set it to always_on, always_off, traceidratio, parentbased_always_on, "
        "parentbased_always_off or parentbased_traceidratio"
    ),
    "OTEL_TRACES_SAMPLER_ARG": "Set it to the sampling ratio, a number from 0 to 1",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": (
        "Set it to true to put prompts and replies in spans, or false (the default)"
    ),
}

Sampler = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]
OTLP_HTTP = "http/protobuf"


# Values never echoed back in an error (DATABASE_URL may hold a password).
SECRET_NAMES = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "DATABASE_URL",
        "PAGERDUTY_ROUTING_KEY",
        "STRIPE_API_KEY",
    }
)


class EnvSettings(BaseSettings):
    """The environment part. Field aliases are the variable names people already know."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///switchboard.db", alias="DATABASE_URL")
    model: str | None = Field(default=None, alias="SWITCHBOARD_MODEL")
    config_file: str | None = Field(default=None, alias="SWITCHBOARD_CONFIG")
    port: int = Field(default=8080, ge=1, le=65535, alias="PORT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LOG_LEVEL"
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", alias="SWITCHBOARD_LOG_FORMAT"
    )
    retention_days: int = Field(default=90, ge=1, alias="SWITCHBOARD_RETENTION_DAYS")
    max_concurrency: int = Field(default=16, ge=1, le=256, alias="SWITCHBOARD_MAX_CONCURRENCY")
    pagerduty_routing_key: SecretStr | None = Field(default=None, alias="PAGERDUTY_ROUTING_KEY")
    stripe_api_key: SecretStr | None = Field(default=None, alias="STRIPE_API_KEY")
    demo_ledger_path: str = Field(
        default="switchboard-demo-ledger.db", alias="SWITCHBOARD_DEMO_LEDGER"
    )
    cache_dir: str = Field(default=".switchboard-cache", alias="SWITCHBOARD_CACHE_DIR")
    # Tracing: OpenTelemetry's own variables, read here so a mistake is one line like any other.
    # The exporter's finer settings (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, the
    # OTEL_BSP_* batch settings, OTEL_RESOURCE_ATTRIBUTES) are read by the SDK itself.
    otel_sdk_disabled: bool = Field(default=False, alias="OTEL_SDK_DISABLED")
    otel_traces_exporter: Literal["otlp", "none"] | None = Field(
        default=None, alias="OTEL_TRACES_EXPORTER"
    )
    otel_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_traces_endpoint: str | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otel_protocol: Literal["http/protobuf"] | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    otel_traces_protocol: Literal["http/protobuf"] | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    )
    otel_service_name: str = Field(default="switchboard", alias="OTEL_SERVICE_NAME")
    otel_traces_sampler: Sampler = Field(
        default="parentbased_always_on", alias="OTEL_TRACES_SAMPLER"
    )
    otel_traces_sampler_arg: float | None = Field(
        default=None, ge=0, le=1, alias="OTEL_TRACES_SAMPLER_ARG"
    )
    genai_capture_content: bool = Field(
        default=False, alias="OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("xoxb-", "xoxp-")):
            raise ValueError("is not a bot token (it should start with xoxb-)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("is not an app-level token (it should start with xapp-)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from storage.urls import normalize_url  # SQLAlchemy: only when a URL is given

        try:
            normalize_url(value)
        except DatabaseURLError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("otel_endpoint", "otel_traces_endpoint")
    @classmethod
    def _otlp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("otel_traces_exporter", "otel_traces_sampler", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("genai_capture_content", mode="before")
    @classmethod
    def _capture(cls, value: Any) -> Any:
        """`true`/`false`, or the GenAI utilities' words (SPAN_ONLY, SPAN_AND_EVENT: on)."""
        if isinstance(value, str) and value.strip().lower() in ("span_only", "span_and_event"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("no_content", "event_only"):
            return False
        return value

    @property
    def traces_on(self) -> bool:
        """Off unless an endpoint (or the otlp exporter) is asked for, and not switched off."""
        if self.otel_sdk_disabled or self.otel_traces_exporter == "none":
            return False
        return bool(
            self.otel_traces_endpoint or self.otel_endpoint or self.otel_traces_exporter == "otlp"
        )

    @property
    def traces_endpoint(self) -> str:
        """Where spans go: the traces URL as given, else the base URL's /v1/traces."""
        if self.otel_traces_endpoint:
            return self.otel_traces_endpoint
        base = self.otel_endpoint or "http://localhost:4318"
        return base.removesuffix("/") + "/v1/traces"

    @field_validator(
        "model",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "config_file",
        "otel_endpoint",
        "otel_traces_endpoint",
        "otel_traces_exporter",
        "otel_protocol",
        "otel_traces_protocol",
        "otel_traces_sampler_arg",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


@dataclass(frozen=True)
class Settings:
    """Everything the product is configured with: the environment plus the TOML file."""

    env: EnvSettings
    file: FileConfig
    config_path: Path | None

    def require(self, *names: str) -> None:
        """Fail with the first missing setting a mode needs (e.g. HTTP mode's signing secret)."""
        for name in names:
            field = next(k for k, f in EnvSettings.model_fields.items() if f.alias == name)
            if getattr(self.env, field) is None:
                raise ConfigError(name, "is not set", FIXES[name])

    def with_env(self, **changes: Any) -> Settings:
        """A copy with some environment values replaced (local mode points Slack at itself)."""
        return Settings(self.env.model_copy(update=changes), self.file, self.config_path)


def load_settings(config_path: str | None = None) -> Settings:
    """Read the environment and the TOML file once; raise `ConfigError` on the first mistake."""
    try:
        env = EnvSettings()
    except ValidationError as exc:
        raise _env_error(exc) from None
    path = _config_path(
        config_path or env.config_file, explicit=bool(config_path or env.config_file)
    )
    return Settings(env=env, file=_read_file(path) if path else FileConfig(), config_path=path)


def _config_path(raw: str | None, *, explicit: bool) -> Path | None:
    path = Path(raw or DEFAULT_CONFIG_FILE)
    if path.is_file():
        return path
    if explicit:
        raise ConfigError(
            "SWITCHBOARD_CONFIG", f"{path} does not exist", FIXES["SWITCHBOARD_CONFIG"]
        )
    return None


def _read_file(path: Path) -> FileConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            str(path), f"is not valid TOML ({exc})", "Fix the syntax at that line"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            str(path), f"cannot be read ({exc})", "Check the file exists and is UTF-8 text"
        ) from None
    try:
        return FileConfig.model_validate(data)
    except ValidationError as exc:
        raise _file_error(path, exc) from None


def _env_error(exc: ValidationError) -> ConfigError:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "environment"
    problem = _plain(error)
    if name not in SECRET_NAMES and isinstance(error.get("input"), str):
        problem = f"{error['input']!r}: {problem}"
    return ConfigError(name, problem, FIXES.get(name, "Check its value"))


def _file_error(path: Path, exc: ValidationError) -> ConfigError:
    error = exc.errors()[0]
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"]).replace(
        ".[", "["
    )
    if error["type"] == "extra_forbidden":
        return ConfigError(
            f"{path}: {where}",
            "is not a known key",
            "Remove it or fix its spelling (see the README's settings table)",
        )
    return ConfigError(
        f"{path}: {where}", _plain(error), "Fix that value (see the README's settings table)"
    )


def _plain(error: Mapping[str, Any]) -> str:
    """Pydantic's message without its 'Value error, ' prefix, and never the secret's value."""
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[0].lower() + message[1:] if message else "is invalid"


def without_credentials(url: str) -> str:
    """A URL as it may be shown: a user and password in it (https://user:key@host) hidden."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe(settings: Settings) -> list[tuple[str, str]]:
    """Name and value of each setting for `switchboard config check`, secrets masked."""
    rows = []
    for field, info in EnvSettings.model_fields.items():
        value = getattr(settings.env, field)
        if isinstance(value, SecretStr):
            shown = "set (hidden)"
        elif value is None:
            shown = "(not set)"
        elif field == "database_url":
            from sqlalchemy.engine import make_url

            shown = make_url(value).render_as_string(hide_password=True)
        elif field in ("otel_endpoint", "otel_traces_endpoint"):
            shown = without_credentials(value)
        else:
            shown = str(value)
        rows.append((str(info.alias), shown))
    rows.append(("config file", str(settings.config_path) if settings.config_path else "(none)"))
    return rows
