"""Settings from the environment (``ARMSBOT_*``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from armsbot.datafiles import bundled_data_dir
from armsbot.services.corrections import PENDING_PER_USER, SUBMISSIONS_PER_HOUR
from armsbot.services.lookup import CARD_CACHE_LINES
from armsbot.services.watch import WATCH_BATCH_SECONDS, WATCH_LIMIT

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


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
    database_url: str | None = Field(
        default=None,
        description="postgresql://user@host/db: use PostgreSQL instead of the SQLite file (a"
        " postgresql:// URL in ARMSBOT_DATABASE does the same)",
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
        default=SUBMISSIONS_PER_HOUR, ge=1, description="corrections a member may submit in an hour"
    )
    pending_per_user: int = Field(
        default=PENDING_PER_USER,
        ge=1,
        description="corrections of one member that may wait for review at once",
    )
    index_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often the bot looks for changes made elsewhere even when the database"
        " says nothing changed (it follows each commit within a second anyway)",
    )
    card_cache_lines: int = Field(
        default=CARD_CACHE_LINES,
        ge=0,
        description="card lines kept built between changes (0: none)",
    )
    watch_batch_seconds: float = Field(
        default=WATCH_BATCH_SECONDS,
        ge=0,
        description="changes to a watched entry within this many seconds of the first one a"
        " notice reports are sent as one notice",
    )
    watch_limit: int = Field(
        default=WATCH_LIMIT, ge=1, description="watches a server may have at most"
    )
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
    shard_count: int | None = Field(
        default=None,
        ge=1,
        description="shards of the whole deployment (Discord requires them past 2,500 servers);"
        " unset: discord.py asks Discord how many",
    )
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None,
        description="the shards this process runs, e.g. 0,1 (needs ARMSBOT_SHARD_COUNT);"
        " unset: all of them",
    )

    @model_validator(mode="before")
    @classmethod
    def _database_as_url(cls, values: Any) -> Any:
        """``ARMSBOT_DATABASE`` may be a URL too: ``postgresql://...`` or ``sqlite:////abs/path``."""
        if isinstance(values, dict) and isinstance(values.get("database"), str):
            values = dict(values)
            given = values["database"]
            if given.startswith(POSTGRES_SCHEMES):
                del values["database"]
                values["database_url"] = values.get("database_url") or given
            elif given.startswith(SQLITE_SCHEME):
                values["database"] = given.removeprefix(SQLITE_SCHEME).removeprefix("/")
        return values

    @property
    def database_location(self) -> Path | str:
        """What ``KnowledgeBase.open`` takes: the PostgreSQL URL when one is set, else the file."""
        return self.database_url or self.database

    @field_validator("dev_guild_ids", "home_guild_ids", "owner_ids", "shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shards_of_the_count(
        cls, value: list[int] | None, info: ValidationInfo
    ) -> list[int] | None:
        if not value:
            return None
        count = info.data.get("shard_count")
        if count is None:
            msg = "needs ARMSBOT_SHARD_COUNT, the shards of the whole deployment"
            raise ValueError(msg)
        if len(set(value)) != len(value):
            msg = f"{value} names a shard twice"
            raise ValueError(msg)
        outside = [i for i in value if not 0 <= i < count]
        if outside:
            msg = f"{outside} not among the {count} shards (ids 0 to {count - 1})"
            raise ValueError(msg)
        return value
