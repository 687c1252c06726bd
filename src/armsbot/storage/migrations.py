"""Schema migrations, applied in order; ``PRAGMA user_version`` records the last one applied."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE entities (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL CHECK (kind IN ('country', 'firm', 'law')),
            name        TEXT NOT NULL,
            -- 'data' when the name was written in data/, 'registry' when ISO/CLDR gave it
            name_origin TEXT NOT NULL DEFAULT 'data' CHECK (name_origin IN ('data', 'registry')),
            summary     TEXT,
            attributes  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
            -- 1 when the entity has a file in data/ (export writes those, and only those)
            curated     INTEGER NOT NULL DEFAULT 1 CHECK (curated IN (0, 1)),
            revision    INTEGER NOT NULL DEFAULT 1
        ) STRICT;

        CREATE TABLE aliases (
            id        INTEGER PRIMARY KEY,
            entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
            position  INTEGER NOT NULL,
            name      TEXT NOT NULL,
            folded    TEXT NOT NULL,
            type      TEXT NOT NULL,
            lang      TEXT,
            -- 'data' for names written in data/, 'registry' for ISO and CLDR names added at build
            origin    TEXT NOT NULL CHECK (origin IN ('data', 'registry')),
            UNIQUE (entity_id, name, type, lang)
        ) STRICT;
        CREATE INDEX aliases_folded ON aliases(folded);

        CREATE TABLE claims (
            id                  TEXT PRIMARY KEY,
            home_entity_id      TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
            position            INTEGER NOT NULL,
            text                TEXT NOT NULL,
            status              TEXT NOT NULL
                CHECK (status IN ('confirmed', 'reported', 'alleged', 'denied')),
            category            TEXT NOT NULL,
            date                TEXT,
            date_text           TEXT,
            product             TEXT,
            end_user            TEXT,
            goods               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(goods)),
            provenance_dataset  TEXT,
            provenance_checksum TEXT,
            provenance_record   TEXT
        ) STRICT;
        CREATE INDEX claims_home ON claims(home_entity_id, position);
        CREATE UNIQUE INDEX claims_provenance
            ON claims(provenance_dataset, provenance_record) WHERE provenance_dataset IS NOT NULL;

        CREATE TABLE claim_parties (
            claim_id  TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            position  INTEGER NOT NULL,
            entity_id TEXT NOT NULL REFERENCES entities(id),
            role      TEXT NOT NULL,
            PRIMARY KEY (claim_id, position),
            UNIQUE (claim_id, entity_id, role)
        ) STRICT;
        CREATE INDEX claim_parties_entity ON claim_parties(entity_id);

        CREATE TABLE sources (
            id        INTEGER PRIMARY KEY,
            url       TEXT,
            title     TEXT NOT NULL,
            publisher TEXT,
            date      TEXT
        ) STRICT;
        CREATE UNIQUE INDEX sources_identity ON sources(
            coalesce(url, ''), title, coalesce(publisher, ''), coalesce(date, '')
        );

        CREATE TABLE claim_sources (
            claim_id  TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            position  INTEGER NOT NULL,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            PRIMARY KEY (claim_id, position)
        ) STRICT;
        CREATE INDEX claim_sources_source ON claim_sources(source_id);

        CREATE TABLE kb_meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """,
    ),
]

# Features add their migrations to the list above; keep them in order of their numbers.
MIGRATIONS.sort(key=lambda migration: migration[0])
LATEST = MIGRATIONS[-1][0]
