"""The one country resolver every dataset's names go through: exact names, then hand mappings.

A spelling is taken only when it is an exact name of one country in the knowledge base (every ISO
and CLDR name, and the aliases in ``data/countries``: "UAE" is an alias of AE there). The few
spellings datasets use that no registry knows are mapped by hand in :data:`COUNTRY_SPELLINGS`,
each with its reason. Anything else is reported with the nearest names, never guessed.
"""

from __future__ import annotations

from armsbot.models import Kind
from armsbot.search.index import MatchTier, SearchIndex

# Spellings that the knowledge base does not know as an exact name of a country, checked by hand
# against the records that use them. One table for every dataset: a mapping added for one file
# serves the next.
COUNTRY_SPELLINGS: dict[str, str] = {
    # A typo of Norway (t is beside y on the keyboard); no country or territory is called Norwat.
    # The SII record (_Norwat_2009) is German export-licence data, listed with the Norway rows.
    "Norwat": "NO",
    # The Democratic Republic of the Congo without "the"; the other Congo (CG) is the Republic of
    # the Congo, which nobody calls "Democratic".
    "Democratic Republic of Congo": "CD",
    # ISO 3166-1 calls PS "Palestine, State of" and the knowledge base "Palestinian Territories";
    # "Palestine" names nothing else.
    "Palestine": "PS",
}


def resolve_country(index: SearchIndex, spelling: str) -> tuple[str | None, str | None]:
    """The ISO code a spelling in a dataset means, or None with the reason it is not clear."""
    text = " ".join(spelling.split())
    curated = COUNTRY_SPELLINGS.get(text)
    if curated is not None:
        if index.entity_kind(curated) is Kind.COUNTRY:
            return curated, None
        return None, f"{text!r} is mapped to {curated}, which is not a country here"
    # Typo guesses never make or stop an exact choice: they are looked for only to say why not.
    chosen = index.resolve(text, Kind.COUNTRY, typos=False).chosen
    if chosen is not None and chosen.tier is MatchTier.EXACT:
        return chosen.id, None
    resolution = index.resolve(text, Kind.COUNTRY)
    guesses = ", ".join(f"{m.name} ({m.id})" for m in resolution.candidates[:3])
    why = f"{text!r} is not the exact name of one country"
    return None, why + (f" (nearest: {guesses})" if guesses else "")


class CountryResolver:
    """:func:`resolve_country` over one index, each spelling resolved once per import."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._seen: dict[str, tuple[str | None, str | None]] = {}

    def __call__(self, spelling: str) -> tuple[str | None, str | None]:
        """The code ``spelling`` means, or None and why not."""
        found = self._seen.get(spelling)
        if found is None:
            found = self._seen[spelling] = resolve_country(self.index, spelling)
        return found
