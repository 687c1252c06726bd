"""The country registry: every ISO 3166-1 country with its names in every CLDR language.

Names come from pycountry (ISO 3166) and Babel (CLDR) when the knowledge base is built, so ``data/``
holds only what people add: abbreviations, historical states, summaries and claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import pycountry
from babel import Locale, localedata

from armsbot.models import AliasType

# Codes that are not in ISO 3166-1 but that the world, CLDR and datasets use for real places.
EXTRA_CODES = {"XK": "Kosovo"}

# Babel's English short names that read badly as a card title.
_AWKWARD = (" - ", " & ", " SAR ", "St. ")


@dataclass(frozen=True, slots=True)
class RegistryName:
    """One name of a country and where it came from."""

    name: str
    type: AliasType
    lang: str | None = None


@dataclass(slots=True)
class RegistryCountry:
    """A country as the ISO and CLDR registries know it."""

    id: str
    name: str
    alpha3: str | None
    names: list[RegistryName] = field(default_factory=list)


def _language_locales() -> list[str]:
    """One locale per language and script: region variants repeat their language's names."""
    keep = []
    for ident in localedata.locale_identifiers():
        parts = ident.split("_")
        if len(parts) == 1 or (len(parts) == 2 and len(parts[1]) == 4):
            keep.append(ident)
    return sorted(keep)


def _display_name(code: str, english: str | None) -> str:
    record = pycountry.countries.get(alpha_2=code)
    if english and not any(mark in english for mark in _AWKWARD):
        return english
    if record is not None:
        common = getattr(record, "common_name", None)
        if common:
            return str(common)
        if "," not in record.name:
            return str(record.name)
    return english or EXTRA_CODES.get(code, code)


@lru_cache(maxsize=1)
def iso_countries() -> dict[str, RegistryCountry]:
    """Every ISO 3166-1 country (and Kosovo), keyed by alpha-2 code, with all its names."""
    translations: dict[str, dict[str, str]] = {}
    for ident in _language_locales():
        try:
            territories = Locale.parse(ident).territories
        except ValueError:  # pragma: no cover - Babel refuses a locale it lists
            continue
        lang = ident.replace("_", "-")
        for code, name in territories.items():
            if len(code) == 2 and code.isalpha():
                translations.setdefault(code, {}).setdefault(name, lang)
    english = Locale.parse("en").territories

    registry: dict[str, RegistryCountry] = {}
    codes = [c.alpha_2 for c in pycountry.countries] + list(EXTRA_CODES)
    for code in codes:
        record = pycountry.countries.get(alpha_2=code)
        country = RegistryCountry(
            id=code,
            name=_display_name(code, english.get(code)),
            alpha3=record.alpha_3 if record is not None else None,
        )
        names = country.names
        names.append(RegistryName(code, AliasType.CODE))
        if record is not None:
            names.append(RegistryName(record.alpha_3, AliasType.CODE))
            for attr in ("name", "official_name", "common_name"):
                value = getattr(record, attr, None)
                if value:
                    names.append(RegistryName(str(value), AliasType.NAME, "en"))
        for name, lang in sorted(translations.get(code, {}).items()):
            names.append(RegistryName(name, AliasType.TRANSLATION, lang))
        registry[code] = country
    return registry


def historic_names(code: str) -> list[RegistryName]:
    """ISO 3166-3 names of a former country with this alpha-2 code (empty when unknown)."""
    names = []
    for record in pycountry.historic_countries:
        if getattr(record, "alpha_2", None) == code:
            names.append(RegistryName(str(record.name), AliasType.NAME, "en"))
            names.append(RegistryName(str(record.alpha_3), AliasType.CODE))
    return names
