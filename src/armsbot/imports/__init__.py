"""Importing public datasets: one core (:mod:`.core`) and one small adapter per format.

An adapter reads a file into records and maps them to claims and the firms to create
(:mod:`.sii` for the Surveillance Industry Index, :mod:`.targets` for documented spyware targets);
the core plans, applies, reports and removes, the same way for every dataset. Country names go
through one shared resolver (:mod:`.countries`); pinned files are fetched and checked by
:mod:`.download`.
"""
