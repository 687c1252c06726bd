"""The in-memory search index over every name and alias of every entity."""

from armsbot.search.folding import fold
from armsbot.search.index import Match, MatchTier, Resolution, SearchIndex

__all__ = ["Match", "MatchTier", "Resolution", "SearchIndex", "fold"]
