"""What a watch notice says, and that it fits in a message however much changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord

from armsbot.bot.components import CardButton
from armsbot.bot.notifier import render_notice
from armsbot.storage.changelog import ChangeKind, EntityChange
from tests.discord_double.validation import validate_message

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def change(
    number: int, kind: ChangeKind, actor: str = "cli:alice", **extra: object
) -> EntityChange:
    values: dict[str, object] = {
        "id": number,
        "entity_id": "AZ",
        "entity_name": "Azerbaijan",
        "change": kind,
        "claim_id": f"claim-{number}",
        "claim_text": f"Claim number {number}.",
        "status_before": None,
        "status_after": None,
        "detail": None,
        "actor_id": actor,
        "correction_id": None,
        "revision_id": None,
        "at": NOW,
    }
    values.update(extra)
    return EntityChange(**values)  # type: ignore[arg-type]


def accepted(content: str) -> bool:
    view = discord.ui.View(timeout=None)
    view.add_item(CardButton("AZ", "Open the card"))
    body = {"content": content, "components": view.to_components(), "allowed_mentions": {}}
    return validate_message(body, n_files=0, creating=True) is None


def test_a_notice_names_each_change_and_who_decided() -> None:
    changes = [
        change(
            1,
            ChangeKind.CLAIM_STATUS,
            status_before="alleged",
            status_after="confirmed",
            correction_id=4,
        ),
        change(
            2,
            ChangeKind.CLAIM_ADDED,
            "discord:1100000000000000003",
            status_after="reported",
            correction_id=5,
        ),
        change(3, ChangeKind.CLAIM_REMOVED, "dataset:sii", status_before="reported"),
        change(4, ChangeKind.ENTRY_EDITED, "build", detail="summary,names", claim_id=None),
        change(
            5,
            ChangeKind.CLAIM_STATUS,
            status_before="reported",
            status_after="denied",
            correction_id=6,
        ),
    ]
    content = render_notice("Azerbaijan", changes, "en-US")
    assert content.splitlines() == [
        "**Azerbaijan** changed:",
        "• status alleged → confirmed: Claim number 1.",
        "• claim added [reported]: Claim number 2.",
        "• claim removed [reported]: Claim number 3.",
        "• entry edited: summary, other names",
        "• status reported → denied: Claim number 5.",
        "Decided by moderator cli\\:alice (correction #4, #6); moderator <@1100000000000000003>"
        " (correction #5); the dataset sii (import); a rebuild from the data files.",
    ]
    assert accepted(content)
    french = render_notice("Azerbaïdjan", changes[:1], "fr")
    assert french.startswith("**Azerbaïdjan** a changé :\n• statut alleged → confirmed")


def test_a_notice_of_hundreds_of_long_hostile_changes_fits_one_message() -> None:
    hostile = "@everyone <@&1> **bold** [link](https://evil.example) " + "word " * 200
    changes = [
        change(
            n,
            ChangeKind.CLAIM_ADDED,
            f"dataset:set{n % 9}",
            claim_text=hostile,
            status_after="alleged",
        )
        for n in range(1, 601)
    ]
    content = render_notice("A" * 300, changes, "en-US")
    assert len(content) <= 2000
    assert accepted(content)
    assert re.search(r"… and \d+ more change\(s\): open the card\.", content)
    assert "@everyone" not in content.replace("\\@", "")
    assert "](https://" not in content
    assert "and 4 others" in content.splitlines()[-1]
