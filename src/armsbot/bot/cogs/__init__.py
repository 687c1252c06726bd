"""Cogs: one per feature area."""
