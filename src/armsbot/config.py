"""Settings from the environment (``ARMSBOT_*``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from armsbot.datafiles import bundled_data_dir


def default_database() -> Path:
    """Where the database lives when ``ARMSBOT_DATABASE`` is not set."""
    return Path(user_data_dir("armsbot", appauthor=False)) / "armsbot.sqlite3"


class Settings(BaseSettings):
    """Everything a deployment can configure."""

    model_config = SettingsConfigDict(
        env_prefix="ARMSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database: Path = Field(default_factory=default_database, description="SQLite file")
    data_dir: Path = Field(default_factory=bundled_data_dir, description="YAML data folder")
    token: SecretStr | None = Field(default=None, description="Discord bot token")
