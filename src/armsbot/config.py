"""Settings from the environment (``ARMSBOT_*``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from armsbot.datafiles import bundled_data_dir


def default_database() -> Path:
    """Where the database lives when ``ARMSBOT_DATABASE`` is not set."""
    return Path(user_data_dir("armsbot", appauthor=False)) / "armsbot.sqlite3"


class Settings(BaseSettings):
    """Everything a deployment can configure."""

    model_config = SettingsConfigDict(
        env_prefix="ARMSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database: Path = Field(
        default_factory=default_database,
        description="the knowledge base's SQLite file; built from the data folder on first use",
        json_schema_extra={"shown_default": "`~/.local/share/armsbot/armsbot.sqlite3` on Linux"},
    )
    read_only: bool = Field(
        default=False, description="open the database read-only: answers work, changes are refused"
    )
    data_dir: Path = Field(
        default_factory=bundled_data_dir,
        description="the folder of YAML data files the knowledge base is built from",
        json_schema_extra={"shown_default": "the `data/` that ships with armsbot"},
    )
    token: SecretStr | None = Field(
        default=None, description="the Discord bot token; only `armsbot run` needs it"
    )
    api_base_url: str = Field(
        default="https://discord.com/api/v10",
        description="Discord REST base URL; point it at a REST proxy in large deployments",
    )
    gateway_url: str | None = Field(
        default=None, description="Discord gateway URL; unset, discord.py asks Discord for it"
    )
    dev_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="sync commands to these servers only (instant, for development)",
    )
    home_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="the servers whose moderators review corrections for this deployment",
    )
    owner_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="users with every privilege, besides the application's owners on Discord",
    )
    submissions_per_hour: int = Field(
        default=5, ge=1, description="corrections a member may submit in an hour"
    )
    pending_per_user: int = Field(
        default=10, ge=1, description="corrections of one member that may wait for review at once"
    )
    index_refresh_seconds: float = Field(
        default=5.0, gt=0, description="how often the bot looks for changes made by the CLI"
    )
    card_cache_lines: int = Field(
        default=60_000, ge=0, description="card lines kept built between changes (0: none)"
    )
    watch_batch_seconds: float = Field(
        default=120.0,
        ge=0,
        description="changes to a watched entry within this many seconds of the first one a"
        " notice reports are sent as one notice",
    )
    watch_limit: int = Field(default=50, ge=1, description="watches a server may have at most")
    sync_commands: bool = Field(
        default=True,
        description="register the slash commands with Discord at start-up (false: keep the"
        " ones registered)",
    )
    project_url: str | None = Field(
        default=None, description="the project's web page, linked from the title of /about"
    )
    dataset_base_url: str = Field(
        default="https://raw.githubusercontent.com",
        description="where `db import` downloads pinned datasets (or a mirror with the same paths)",
    )
    download_timeout_seconds: float = Field(
        default=60.0, gt=0, description="how long a dataset download may take, connecting included"
    )
    log_level: str = Field(
        default="INFO", description="what `armsbot run` logs: DEBUG, INFO, WARNING or ERROR"
    )

    @field_validator("dev_guild_ids", "home_guild_ids", "owner_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value
