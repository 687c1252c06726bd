"""Discord's request validation: every documented length and count limit a bot's payload meets.

A payload over a limit gets what Discord answers: HTTP 400 with code 50035 ("Invalid Form Body")
and, under ``errors``, the path of the failing field (``embeds.0.fields.3.value._errors``).
The limits are Discord's documented ones (developer docs: Message resource, "Embed Limits";
Components reference; Interactions, "Autocomplete" and "Modal"); lengths are counted in Unicode
code points, as Discord counts them. The checks are always on: there is no switch to relax them.
"""

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


# Messages (https://discord.com/developers/docs/resources/message#create-message).
CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
# Embeds ("Embed Limits").
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = (
    6000  # title + description + field names and values + footer + author, all embeds
)
# Components (https://discord.com/developers/docs/components/reference).
ACTION_ROWS_LIMIT = 5
ROW_BUTTONS_LIMIT = 5
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTON_URL_LIMIT = 512
SELECT_PLACEHOLDER_LIMIT = 150
SELECT_OPTIONS_LIMIT = 25
SELECT_OPTION_TEXT_LIMIT = 100  # an option's label, value and description
SELECT_VALUES_LIMIT = 25
# Modals and text inputs.
MODAL_TITLE_LIMIT = 45
MODAL_ROWS_LIMIT = 5
TEXT_INPUT_LABEL_LIMIT = 45
TEXT_INPUT_PLACEHOLDER_LIMIT = 100
TEXT_INPUT_VALUE_LIMIT = 4000  # also the range of min_length (0..4000) and max_length (1..4000)
LABEL_DESCRIPTION_LIMIT = 100
# Autocomplete results.
CHOICES_LIMIT = 25
CHOICE_TEXT_LIMIT = 100  # a choice's name, and its value when it is a string

BUTTON = 2
TEXT_INPUT = 4
LABEL = 18
LINK_STYLE = 5
PREMIUM_STYLE = 6
SELECTS = frozenset({3, 5, 6, 7, 8})
REQUIRED = error("BASE_TYPE_REQUIRED", "This field is required")


def _length(value: Any, limit: int, *, minimum: int = 0, required: bool = False) -> JSON | None:
    """The error for a string outside ``minimum..limit`` (or missing when required), else None."""
    if value is None:
        return REQUIRED if required else None
    if not isinstance(value, str):
        return error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
    if minimum and not minimum <= len(value) <= limit:
        return error("BASE_TYPE_BAD_LENGTH", f"Must be between {minimum} and {limit} in length.")
    if len(value) > limit:
        return error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _count(items: Any, limit: int, *, minimum: int = 0) -> JSON | None:
    """The error for a list with fewer than ``minimum`` or more than ``limit`` items, else None."""
    if items is None:
        return REQUIRED if minimum else None
    if not isinstance(items, list):
        return error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
    if minimum and not minimum <= len(items) <= limit:
        return error("BASE_TYPE_BAD_LENGTH", f"Must be between {minimum} and {limit} in length.")
    if len(items) > limit:
        return error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _number(value: Any, low: int, high: int) -> JSON | None:
    """The error for an integer outside ``low..high`` (absent is fine), else None."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return error("NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    if value < low:
        return error("NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}.")
    if value > high:
        return error("NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")
    return None


class _Errors:
    """Discord's nested error object, filled in by path."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: tuple[str | int, ...], problem: JSON | None) -> None:
        """Record ``problem`` (an ``_errors`` leaf) at ``path``; None records nothing."""
        if problem is None:
            return
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).extend(problem["_errors"])

    def __bool__(self) -> bool:
        return bool(self.tree)


def iter_components(components: list[JSON]) -> Iterator[JSON]:
    """Yield every component in a (possibly nested) component tree."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                children.append(component[key])
        yield from iter_components(children)


def embed_size(embed: JSON) -> int:
    """The characters of one embed that count towards the 6,000 of a message."""
    size = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    for fld in embed.get("fields") or []:
        if isinstance(fld, dict):
            size += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    for key in ("footer", "author"):
        part = embed.get(key)
        if isinstance(part, dict):
            size += len(str(part.get("text" if key == "footer" else "name") or ""))
    return size


def _check_embeds(embeds: Any, errors: _Errors) -> None:
    path: tuple[str | int, ...] = ("embeds",)
    if (problem := _count(embeds, EMBEDS_PER_MESSAGE)) is not None:
        errors.add(path, problem)
        return
    for index, embed in enumerate(embeds or []):
        at = (*path, index)
        errors.add((*at, "title"), _length(embed.get("title"), EMBED_TITLE_LIMIT))
        errors.add((*at, "description"), _length(embed.get("description"), EMBED_DESCRIPTION_LIMIT))
        fields = embed.get("fields")
        if (problem := _count(fields, EMBED_FIELDS_LIMIT)) is not None:
            errors.add((*at, "fields"), problem)
        else:
            for f_index, fld in enumerate(fields or []):
                f_at = (*at, "fields", f_index)
                errors.add(
                    (*f_at, "name"),
                    _length(fld.get("name"), EMBED_FIELD_NAME_LIMIT, minimum=1, required=True),
                )
                errors.add(
                    (*f_at, "value"),
                    _length(fld.get("value"), EMBED_FIELD_VALUE_LIMIT, minimum=1, required=True),
                )
        if isinstance(embed.get("footer"), dict):
            errors.add(
                (*at, "footer", "text"),
                _length(embed["footer"].get("text"), EMBED_FOOTER_LIMIT, required=True),
            )
        if isinstance(embed.get("author"), dict):
            errors.add(
                (*at, "author", "name"),
                _length(embed["author"].get("name"), EMBED_AUTHOR_LIMIT, required=True),
            )
    if sum(embed_size(e) for e in embeds or []) > EMBED_TOTAL_LIMIT:
        errors.add(
            path,
            error(
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}",
            ),
        )


def _check_custom_id(
    component: JSON, at: tuple[str | int, ...], errors: _Errors, seen: set[str], *, required: bool
) -> None:
    custom_id = component.get("custom_id")
    problem = _length(custom_id, CUSTOM_ID_LIMIT, minimum=1, required=required)
    if problem is None and custom_id is not None:
        if custom_id in seen:
            problem = error(
                "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        seen.add(custom_id)
    errors.add((*at, "custom_id"), problem)


def _check_button(button: JSON, at: tuple[str | int, ...], errors: _Errors, seen: set[str]) -> None:
    style = button.get("style")
    errors.add((*at, "label"), _length(button.get("label"), BUTTON_LABEL_LIMIT))
    if style == LINK_STYLE:
        errors.add((*at, "url"), _length(button.get("url"), BUTTON_URL_LIMIT, required=True))
        if button.get("custom_id") is not None:
            errors.add(
                (*at, "custom_id"),
                error("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A link button has no custom id"),
            )
    elif style != PREMIUM_STYLE:
        _check_custom_id(button, at, errors, seen, required=True)


def _check_select(select: JSON, at: tuple[str | int, ...], errors: _Errors, seen: set[str]) -> None:
    _check_custom_id(select, at, errors, seen, required=True)
    errors.add((*at, "placeholder"), _length(select.get("placeholder"), SELECT_PLACEHOLDER_LIMIT))
    errors.add((*at, "min_values"), _number(select.get("min_values"), 0, SELECT_VALUES_LIMIT))
    errors.add((*at, "max_values"), _number(select.get("max_values"), 1, SELECT_VALUES_LIMIT))
    if select.get("type") != 3:
        return
    options = select.get("options")
    if (problem := _count(options, SELECT_OPTIONS_LIMIT, minimum=1)) is not None:
        errors.add((*at, "options"), problem)
        return
    for o_index, option in enumerate(options):
        o_at = (*at, "options", o_index)
        for key in ("label", "value"):
            errors.add(
                (*o_at, key),
                _length(option.get(key), SELECT_OPTION_TEXT_LIMIT, minimum=1, required=True),
            )
        errors.add(
            (*o_at, "description"), _length(option.get("description"), SELECT_OPTION_TEXT_LIMIT)
        )


def _check_components(components: Any, flags: int, errors: _Errors) -> None:
    if flags & COMPONENTS_V2_FLAG:
        return
    path: tuple[str | int, ...] = ("components",)
    if (problem := _count(components, ACTION_ROWS_LIMIT)) is not None:
        errors.add(path, problem)
        return
    seen: set[str] = set()
    for row_index, row in enumerate(components or []):
        at = (*path, row_index)
        if row.get("type") != 1:
            errors.add(
                (*at, "type"),
                error("UNION_TYPE_CHOICES", "Top-level components must be action rows"),
            )
            continue
        children = row.get("components")
        if (problem := _count(children, ROW_BUTTONS_LIMIT, minimum=1)) is not None:
            errors.add((*at, "components"), problem)
            continue
        kinds = [child.get("type") for child in children]
        if any(kind in SELECTS for kind in kinds) and len(children) > 1:
            errors.add(
                (*at, "components"),
                error("COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select menu takes a whole row"),
            )
        for child_index, child in enumerate(children):
            c_at = (*at, "components", child_index)
            if child.get("type") == BUTTON:
                _check_button(child, c_at, errors, seen)
            elif child.get("type") in SELECTS:
                _check_select(child, c_at, errors, seen)
            else:
                errors.add(
                    (*c_at, "type"),
                    error(
                        "UNION_TYPE_CHOICES", 'Value of field "type" must be a button or a select'
                    ),
                )


def validate_message(body: JSON, *, n_files: int, creating: bool) -> tuple[int, JSON] | None:
    """Return (status, error body) for a message Discord would reject, else None."""
    errors = _Errors()
    errors.add(("content",), _length(body.get("content"), CONTENT_LIMIT))
    _check_embeds(body.get("embeds"), errors)
    _check_components(body.get("components"), int(body.get("flags") or 0), errors)
    if errors:
        return 400, form_error(errors.tree)
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
    errors = _Errors()
    choices = data.get("choices")
    problem = REQUIRED if choices is None else _count(choices, CHOICES_LIMIT)
    if problem is not None:
        errors.add(("choices",), problem)
        return form_error(errors.tree)
    for index, choice in enumerate(choices):
        at = ("choices", index)
        errors.add(
            (*at, "name"), _length(choice.get("name"), CHOICE_TEXT_LIMIT, minimum=1, required=True)
        )
        value = choice.get("value")
        if value is None:
            errors.add((*at, "value"), REQUIRED)
        elif isinstance(value, str):
            errors.add((*at, "value"), _length(value, CHOICE_TEXT_LIMIT))
    return form_error(errors.tree) if errors else None


def _check_text_input(
    component: JSON,
    at: tuple[str | int, ...],
    errors: _Errors,
    seen: set[str],
    *,
    in_label: bool,
) -> None:
    _check_custom_id(component, at, errors, seen, required=True)
    if component.get("style") not in (1, 2):
        errors.add((*at, "style"), error("BASE_TYPE_CHOICES", "Value must be one of (1, 2)."))
    if not in_label:  # inside a label component the label is the label component's
        errors.add(
            (*at, "label"),
            _length(component.get("label"), TEXT_INPUT_LABEL_LIMIT, minimum=1, required=True),
        )
    errors.add(
        (*at, "placeholder"),
        _length(component.get("placeholder"), TEXT_INPUT_PLACEHOLDER_LIMIT),
    )
    errors.add((*at, "value"), _length(component.get("value"), TEXT_INPUT_VALUE_LIMIT))
    errors.add((*at, "min_length"), _number(component.get("min_length"), 0, TEXT_INPUT_VALUE_LIMIT))
    errors.add((*at, "max_length"), _number(component.get("max_length"), 1, TEXT_INPUT_VALUE_LIMIT))


def validate_modal(data: JSON) -> JSON | None:
    """Return a 50035 error body for an invalid modal, else None."""
    errors = _Errors()
    errors.add(("title",), _length(data.get("title"), MODAL_TITLE_LIMIT, minimum=1, required=True))
    errors.add(
        ("custom_id",),
        _length(data.get("custom_id"), CUSTOM_ID_LIMIT, minimum=1, required=True),
    )
    components = data.get("components")
    if (problem := _count(components, MODAL_ROWS_LIMIT, minimum=1)) is not None:
        errors.add(("components",), problem)
        return form_error(errors.tree)
    seen: set[str] = set()
    for index, row in enumerate(components):
        at: tuple[str | int, ...] = ("components", index)
        if row.get("type") == LABEL:
            errors.add(
                (*at, "label"),
                _length(row.get("label"), TEXT_INPUT_LABEL_LIMIT, minimum=1, required=True),
            )
            errors.add(
                (*at, "description"), _length(row.get("description"), LABEL_DESCRIPTION_LIMIT)
            )
            inner = row.get("component")
            if isinstance(inner, dict) and inner.get("type") == TEXT_INPUT:
                _check_text_input(inner, (*at, "component"), errors, seen, in_label=True)
            elif isinstance(inner, dict) and inner.get("type") in SELECTS:
                _check_select(inner, (*at, "component"), errors, seen)
            else:
                errors.add((*at, "component"), REQUIRED)
            continue
        if row.get("type") != 1:
            errors.add(
                (*at, "type"),
                error("UNION_TYPE_CHOICES", "Modal components must be action rows or labels"),
            )
            continue
        children = row.get("components")
        if (problem := _count(children, 1, minimum=1)) is not None:
            errors.add((*at, "components"), problem)
            continue
        child = children[0]
        if child.get("type") == TEXT_INPUT:
            _check_text_input(child, (*at, "components", 0), errors, seen, in_label=False)
        else:
            errors.add(
                (*at, "components", 0, "type"),
                error("UNION_TYPE_CHOICES", "A modal's action row holds one text input"),
            )
    return form_error(errors.tree) if errors else None
