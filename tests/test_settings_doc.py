"""The settings table in docs/operators.md and .env.example are what ``Settings`` makes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from armsbot import settings_doc
from armsbot.config import Settings
from tests.conftest import REPO


def test_every_setting_has_a_description() -> None:
    undocumented = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []


def test_the_settings_table_and_env_example_match_settings() -> None:
    """Regenerate with `python -m armsbot.settings_doc` when this fails."""
    assert settings_doc.stale_files(REPO) == []
    page = (REPO / "docs" / "operators.md").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = settings_doc.env_name(name)
        assert f"| `{variable}` |" in page
        assert f"# {variable}=" in example


def test_a_new_setting_makes_both_files_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").mkdir()
    for relative in (settings_doc.OPERATORS, settings_doc.ENV_EXAMPLE):
        (tmp_path / relative).write_text(
            (REPO / relative).read_text(encoding="utf-8"), encoding="utf-8"
        )
    assert settings_doc.main(["--check", "--root", str(tmp_path)]) == 0

    class Grown(Settings):
        shard_count: int = Field(default=1, ge=1, description="how many shards in all")

    monkeypatch.setattr(settings_doc, "Settings", Grown)
    assert settings_doc.main(["--check", "--root", str(tmp_path)]) == 1
    assert settings_doc.main(["--root", str(tmp_path)]) == 0
    assert "| `ARMSBOT_SHARD_COUNT` | `1` | whole number ≥ 1 | how many shards in all |" in (
        tmp_path / settings_doc.OPERATORS
    ).read_text(encoding="utf-8")
    assert "# ARMSBOT_SHARD_COUNT=1\n" in (tmp_path / settings_doc.ENV_EXAMPLE).read_text(
        encoding="utf-8"
    )
    assert settings_doc.main(["--check", "--root", str(tmp_path)]) == 0


def test_a_setting_without_a_description_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Careless(Settings):
        shard_ids: str = "0"

    monkeypatch.setattr(settings_doc, "Settings", Careless)
    with pytest.raises(
        settings_doc.SettingUndocumented, match="ARMSBOT_SHARD_IDS has no description"
    ):
        settings_doc.markdown_table()
