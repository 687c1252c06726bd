"""SQLite storage: the only layer that speaks SQL."""

from armsbot.storage.knowledge_base import KnowledgeBase

__all__ = ["KnowledgeBase"]
