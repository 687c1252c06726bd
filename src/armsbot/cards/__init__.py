"""Platform-neutral answers: the bot turns a card into embeds, the CLI into text or JSON."""

from armsbot.cards.model import Card, CardGroup, CardLine, CardSection, CardSource

__all__ = ["Card", "CardGroup", "CardLine", "CardSection", "CardSource"]
