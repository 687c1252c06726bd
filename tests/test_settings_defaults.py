"""One default per setting: where a service has its own default, the setting's is the same one."""

from __future__ import annotations

import dataclasses
import inspect

from armsbot.config import Settings
from armsbot.services.corrections import Limits
from armsbot.services.lookup import LookupService
from armsbot.services.watch import WatchService


def test_each_setting_defaults_to_what_its_service_does_without_it() -> None:
    def field_default(cls: type, name: str) -> object:
        return next(f.default for f in dataclasses.fields(cls) if f.name == name)

    service_defaults = {
        "submissions_per_hour": field_default(Limits, "submissions_per_hour"),
        "pending_per_user": field_default(Limits, "pending_per_user"),
        "watch_limit": field_default(WatchService, "limit_per_guild"),
        "watch_batch_seconds": field_default(WatchService, "batch_seconds"),
        "card_cache_lines": inspect.signature(LookupService).parameters["cache_lines"].default,
    }
    settings = {name: Settings.model_fields[name].default for name in service_defaults}
    assert settings == service_defaults
