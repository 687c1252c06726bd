"""Which characters may hide in text: one policy, to refuse on input and to drop on display.

The policy is built from Unicode properties, not a hand list, so it keeps up with the standard:
control characters (except newline and tab), lone surrogates, Bidi_Control, the line and paragraph
separators, and every Default_Ignorable_Code_Point (zero-width spaces, the soft hyphen, Hangul
fillers, tag characters, variation selectors ...). An ignorable character is let through only where
it does visible work:

- ZWJ (U+200D) between the parts of an emoji sequence (👨‍👩‍👧, ❤️‍🔥), or after a virama;
- ZWNJ (U+200C) between two letters of a joining script (Persian "می‌خواهم"), or after a virama;
- tag characters inside an emoji tag sequence: the black flag U+1F3F4, tag letters, then the
  cancel tag U+E007F (the flags of Scotland, England and Wales);
- a variation selector right after the character it selects a form of: U+FE0E/U+FE0F after an
  emoji (❤️, 1️⃣), U+FE00-U+FE0D after a letter, digit or symbol, an ideographic variation
  selector after an ideograph, a Mongolian free variation selector after a Mongolian letter.

Everywhere else such a character lets two strings that look the same differ, or text show in
another order than it is stored, so a field holding one is refused (:func:`hidden_character`),
and text shown to members has it removed (:func:`without_hidden`).
"""

from __future__ import annotations

import unicodedata

import regex

# Letters of a joining script (Arabic, Syriac, N'Ko, Mongolian ...), whichever side they join on:
# Persian puts ZWNJ before the plural "ها" after every letter, joining or not.
_JOINING = (
    r"[\p{Joining_Type=Dual_Joining}\p{Joining_Type=Right_Joining}"
    r"\p{Joining_Type=Left_Joining}\p{Joining_Type=Join_Causing}]"
)
_TRANSPARENT = r"\p{Joining_Type=Transparent}*"

_POLICY = regex.compile(
    rf"""
    (?= [\p{{Cc}}\p{{Cs}}\p{{Bidi_Control}}\p{{Default_Ignorable_Code_Point}}\u2028\u2029] )
    (?! [\n\t] )
    # ZWJ inside an emoji sequence: after an emoji, a skin tone or VS16, before an emoji.
    (?! (?<= [\p{{Extended_Pictographic}}\p{{Emoji_Modifier}}\uFE0F] ) \u200D
        (?= \p{{Extended_Pictographic}} ) )
    # ZWJ or ZWNJ after a virama: Indic half forms, conjuncts and chillus (as UAX #31 allows).
    (?! (?<= \p{{Canonical_Combining_Class=Virama}} ) [\u200C\u200D] )
    # ZWNJ between two letters of a joining script (Arabic, Persian, Syriac, N'Ko, Mongolian).
    (?! (?<= {_JOINING} {_TRANSPARENT} ) \u200C (?= {_TRANSPARENT} {_JOINING} ) )
    # Tag characters in an emoji tag sequence: 🏴, tag letters and digits, the cancel tag.
    (?! (?<= \U0001F3F4 [\U000E0020-\U000E007E]* ) [\U000E0020-\U000E007E]
        (?= [\U000E0020-\U000E007E]* \U000E007F ) )
    (?! (?<= \U0001F3F4 [\U000E0020-\U000E007E]+ ) \U000E007F )
    # Variation selectors, each right after the character whose form it selects.
    (?! (?<= \p{{Emoji}} ) [\uFE0E\uFE0F] )
    (?! (?<= [\p{{L}}\p{{N}}\p{{S}}\p{{P}}] ) [\uFE00-\uFE0D] )
    (?! (?<= \p{{Ideographic}} ) [\U000E0100-\U000E01EF] )
    (?! (?<= \p{{Script=Mongolian}} ) [\u180B-\u180D\u180F] )
    .
    """,
    regex.VERBOSE | regex.DOTALL,
)


def hidden_character(text: str) -> str | None:
    """The first character that may not stand where it is in ``text``, or None."""
    found = _POLICY.search(text)
    return None if found is None else found.group()


def without_hidden(text: str) -> str:
    """``text`` with every character the policy refuses removed."""
    if text.isascii() and text.isprintable():
        # Most text: printable ASCII holds no character the policy refuses (they are all
        # controls or outside ASCII), and this test is ten times faster than the policy's.
        return text
    # Removing one character can take away the context of the next (the VS16 that let a ZWJ
    # through), so repeat until nothing is refused; each round removes at least one character.
    while True:
        shorter = _POLICY.sub("", text)
        if shorter == text:
            return text
        text = shorter


def escape_hidden(text: str) -> str:
    """``text`` with every refused character written as its escape (``\\u061c``), for reports."""
    return _POLICY.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


def character_label(character: str) -> str:
    """A character as its code point and Unicode name: U+202E RIGHT-TO-LEFT OVERRIDE."""
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{code} {name}" if name else code


def hidden_reason(character: str) -> str:
    """Why a character returned by :func:`hidden_character` is refused, for a field's error."""
    code = character_label(character)
    if "\ud800" <= character <= "\udfff":
        return f"contains a lone surrogate ({code}), which is not valid Unicode text"
    if regex.match(r"\p{Cc}", character):
        return f"contains a control character ({code})"
    return f"contains an invisible or direction-changing character ({code})"
