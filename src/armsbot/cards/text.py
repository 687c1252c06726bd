"""Cards as plain text for the terminal."""

from __future__ import annotations

import textwrap

from armsbot.cards.model import Card, CardLine

WIDTH = 100


def _line(line: CardLine, indent: str) -> list[str]:
    head = f"[{line.status.value}] " if line.status else ""
    refs = " " + "".join(f"[{n}]" for n in line.sources) if line.sources else ""
    detail = f" ({line.detail})" if line.detail else ""
    return textwrap.wrap(
        f"{head}{line.text}{detail}{refs}",
        width=WIDTH,
        initial_indent=f"{indent}- ",
        subsequent_indent=f"{indent}  ",
    )


def render_text(card: Card) -> str:
    """The card as the terminal shows it."""
    kind = f" — {card.kind}" if card.kind not in ("search", "claims") else ""
    ident = f" ({card.entity_id})" if card.entity_id else ""
    out = [f"{card.title}{ident}{kind}"]
    if card.summary:
        out += textwrap.wrap(card.summary, WIDTH)
    for label, value in card.facts:
        out.append(f"{label}: {value}")
    for section in card.sections:
        out += ["", section.title]
        for group in section.groups:
            indent = "  "
            if group.heading:
                out.append(f"  {group.heading}")
                indent = "    "
            for line in group.lines:
                out += _line(line, indent)
    if card.sources:
        out += ["", "Sources"]
        for source in card.sources:
            url = f" {source.url}" if source.url else ""
            out += textwrap.wrap(
                f"[{source.number}] {source.label()}{url}",
                WIDTH,
                initial_indent="  ",
                subsequent_indent="      ",
                break_long_words=False,
                break_on_hyphens=False,
            )
    if card.footer:
        out += ["", *textwrap.wrap(card.footer, WIDTH)]
    return "\n".join(out)
