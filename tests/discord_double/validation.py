"""The subset of Discord's request validation that bots commonly trip over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .models import JSON

NAME_RE = re.compile(r"^[-_\w]{1,32}$")
EMPTY_MESSAGE: JSON = {"message": "Cannot send an empty message", "code": 50006}
COMPONENTS_V2_FLAG = 1 << 15
EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7


def error(code: str, message: str) -> JSON:
    """Return one ``_errors`` leaf as Discord nests them."""
    return {"_errors": [{"code": code, "message": message}]}


def form_error(errors: JSON) -> JSON:
    """Return a 400 body with code 50035 (Invalid Form Body)."""
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def _max_len(value: Any, limit: int) -> JSON | None:
    if isinstance(value, str) and len(value) > limit:
        return error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _validate_name(name: Any, *, chat_input: bool) -> JSON | None:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    if chat_input and (not NAME_RE.match(name) or name != name.lower()):
        return error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    return None


def _validate_description(desc: Any, *, chat_input: bool) -> JSON | None:
    if not chat_input:
        if desc:
            return error("APPLICATION_COMMAND_INVALID_DESCRIPTION", "Description must be empty")
        return None
    if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
        return error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    return None


def _validate_options(options: list[JSON]) -> JSON:
    errors: JSON = {}
    if len(options) > 25:
        return {
            "_errors": error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")["_errors"]
        }
    seen: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        opt_errors: JSON = {}
        name = option.get("name")
        if (e := _validate_name(name, chat_input=True)) is not None:
            opt_errors["name"] = e
        elif name in seen:
            opt_errors["name"] = error(
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Duplicate"
            )
        seen.add(str(name))
        if (e := _validate_description(option.get("description"), chat_input=True)) is not None:
            opt_errors["description"] = e
        choices = option.get("choices") or []
        if len(choices) > 25:
            opt_errors["choices"] = error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and option.get("autocomplete"):
            opt_errors["autocomplete"] = error(
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES",
                "Autocomplete cannot be set on options with choices",
            )
        if option.get("type") in (1, 2):
            sub = _validate_options(option.get("options") or [])
            if sub:
                opt_errors["options"] = sub
        elif option.get("required"):
            if optional_seen:
                opt_errors["required"] = error(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if opt_errors:
            errors[str(index)] = opt_errors
    return errors


def validate_commands(commands: Any) -> JSON | None:
    """Return a 50035 error body for an invalid bulk-overwrite payload, else None."""
    if not isinstance(commands, list):
        return form_error(error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
    errors: JSON = {}
    seen: set[tuple[int, str]] = set()
    if sum(1 for c in commands if c.get("type", 1) == 1) > 100:
        return form_error(error("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
    for index, cmd in enumerate(commands):
        cmd_errors: JSON = {}
        ctype = int(cmd.get("type", 1))
        chat_input = ctype == 1
        name = cmd.get("name")
        if (e := _validate_name(name, chat_input=chat_input)) is not None:
            cmd_errors["name"] = e
        elif (ctype, str(name)) in seen:
            cmd_errors["name"] = error(
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {name}",
            )
        seen.add((ctype, str(name)))
        if (
            e := _validate_description(cmd.get("description", ""), chat_input=chat_input)
        ) is not None:
            cmd_errors["description"] = e
        if chat_input:
            opt_errors = _validate_options(cmd.get("options") or [])
            if opt_errors:
                cmd_errors["options"] = opt_errors
        if cmd_errors:
            errors[str(index)] = cmd_errors
    return form_error(errors) if errors else None


def iter_components(components: list[JSON]) -> Iterator[JSON]:
    """Yield every component in a (possibly nested) component tree."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                children.append(component[key])
        yield from iter_components(children)


def _validate_components(components: list[JSON], flags: int) -> JSON | None:
    if flags & COMPONENTS_V2_FLAG:
        return None
    if len(components) > 5:
        return error("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    errors: JSON = {}
    custom_ids: set[str] = set()
    for row_index, row in enumerate(components):
        row_errors: JSON = {}
        if row.get("type") != 1:
            row_errors["type"] = error(
                "UNION_TYPE_CHOICES", "Top-level components must be action rows"
            )
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            row_errors["components"] = error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        for child_index, child in enumerate(children):
            custom_id = child.get("custom_id")
            child_errors: JSON = {}
            if custom_id is not None:
                if (e := _max_len(custom_id, 100)) is not None:
                    child_errors["custom_id"] = e
                elif custom_id in custom_ids:
                    child_errors["custom_id"] = error(
                        "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                    )
                custom_ids.add(custom_id)
            if (e := _max_len(child.get("label"), 80)) is not None:
                child_errors["label"] = e
            if child_errors:
                row_errors.setdefault("components", {})[str(child_index)] = child_errors
        if row_errors:
            errors[str(row_index)] = row_errors
    return errors or None


def _validate_embeds(embeds: list[JSON]) -> JSON | None:
    if len(embeds) > 10:
        return error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    errors: JSON = {}
    for index, embed in enumerate(embeds):
        embed_errors: JSON = {}
        for key, limit in (("title", 256), ("description", 4096)):
            if (e := _max_len(embed.get(key), limit)) is not None:
                embed_errors[key] = e
        fields = embed.get("fields") or []
        if len(fields) > 25:
            embed_errors["fields"] = error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for f_index, fld in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                if (e := _max_len(fld.get(key), limit)) is not None:
                    embed_errors.setdefault("fields", {}).setdefault(str(f_index), {})[key] = e
        if embed_errors:
            errors[str(index)] = embed_errors
    return errors or None


def validate_message(body: JSON, *, n_files: int, creating: bool) -> tuple[int, JSON] | None:
    """Return (status, error body) for a message Discord would reject, else None."""
    errors: JSON = {}
    if (e := _max_len(body.get("content"), 2000)) is not None:
        errors["content"] = e
    if (e := _validate_embeds(body.get("embeds") or [])) is not None:
        errors["embeds"] = e
    flags = int(body.get("flags") or 0)
    if (e := _validate_components(body.get("components") or [], flags)) is not None:
        errors["components"] = e
    if errors:
        return 400, form_error(errors)
    if creating and not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or n_files
    ):
        return 400, EMPTY_MESSAGE
    return None


def validate_choices(data: JSON) -> JSON | None:
    """Return a 50035 error body for invalid autocomplete choices, else None."""
    choices = data.get("choices")
    if not isinstance(choices, list):
        return form_error({"choices": error("BASE_TYPE_REQUIRED", "This field is required")})
    if len(choices) > 25:
        return form_error(
            {"choices": error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")}
        )
    errors: JSON = {}
    for index, choice in enumerate(choices):
        choice_errors: JSON = {}
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            choice_errors["name"] = error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if (e := _max_len(choice.get("value"), 100)) is not None:
            choice_errors["value"] = e
        if choice_errors:
            errors[str(index)] = choice_errors
    return form_error({"choices": errors}) if errors else None


def validate_modal(data: JSON) -> JSON | None:
    """Return a 50035 error body for an invalid modal, else None."""
    errors: JSON = {}
    if (e := _max_len(data.get("title"), 45)) is not None or not data.get("title"):
        errors["title"] = e or error("BASE_TYPE_REQUIRED", "This field is required")
    if not data.get("custom_id"):
        errors["custom_id"] = error("BASE_TYPE_REQUIRED", "This field is required")
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors["components"] = error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    return form_error(errors) if errors else None
