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
    (
        2,
        """
        -- Community corrections: a proposed change to one entity, against its revision then.
        CREATE TABLE corrections (
            id              INTEGER PRIMARY KEY,
            entity_id       TEXT,
            change          TEXT NOT NULL CHECK (json_valid(change)),
            base_revision   INTEGER,
            what_is_wrong   TEXT NOT NULL,
            source_url      TEXT NOT NULL,
            source_title    TEXT,
            note            TEXT,
            submitter_id    TEXT NOT NULL,
            guild_id        TEXT,
            status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                ('pending', 'approved', 'rejected', 'withdrawn', 'stale', 'superseded')),
            created_at      TEXT NOT NULL,
            decided_at      TEXT,
            decided_by      TEXT,
            decision_reason TEXT,
            revision_id     INTEGER REFERENCES revisions(id)
        ) STRICT;
        CREATE INDEX corrections_status ON corrections(status, id);
        CREATE INDEX corrections_submitter ON corrections(submitter_id, created_at);
        CREATE INDEX corrections_entity ON corrections(entity_id, status);

        -- Where each correction was posted for review, so the post can show the outcome.
        CREATE TABLE review_posts (
            correction_id INTEGER NOT NULL REFERENCES corrections(id),
            channel_id    TEXT NOT NULL,
            message_id    TEXT NOT NULL,
            PRIMARY KEY (correction_id, channel_id)
        ) STRICT;

        -- Every change to an entity: its curated content before and after, who, why.
        CREATE TABLE revisions (
            id            INTEGER PRIMARY KEY,
            entity_id     TEXT NOT NULL,
            number        INTEGER NOT NULL,
            before        TEXT CHECK (before IS NULL OR json_valid(before)),
            after         TEXT CHECK (after IS NULL OR json_valid(after)),
            actor_id      TEXT NOT NULL,
            reason        TEXT,
            correction_id INTEGER REFERENCES corrections(id),
            reverts       INTEGER REFERENCES revisions(id),
            created_at    TEXT NOT NULL,
            UNIQUE (entity_id, number)
        ) STRICT;

        -- Append-only: rows are never deleted, and only an erased user's id may be rewritten.
        CREATE TABLE audit_log (
            id            INTEGER PRIMARY KEY,
            at            TEXT NOT NULL,
            actor_id      TEXT NOT NULL,
            action        TEXT NOT NULL,
            correction_id INTEGER,
            entity_id     TEXT,
            details       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
        ) STRICT;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF id, at, action, correction_id,
            entity_id ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        CREATE TABLE guild_settings (
            guild_id          TEXT PRIMARY KEY,
            moderator_role_id TEXT,
            review_channel_id TEXT,
            updated_at        TEXT NOT NULL,
            updated_by        TEXT NOT NULL
        ) STRICT;
        """,
    ),
    (
        3,
        """
        -- The dataset that created an entity (a firm the SII import did not find), NULL for
        -- entities from data/, the registry or a correction: removing the dataset removes them.
        ALTER TABLE entities ADD COLUMN dataset TEXT;
        CREATE INDEX entities_dataset ON entities(dataset) WHERE dataset IS NOT NULL;
        """,
    ),
    (
        4,
        """
        -- When a claim's event was reported, apart from when it happened (claims.date); the
        -- claims a claim is deliberately distinct from (db check --strict's duplicate rule); and
        -- whether a source's link is the publisher's own page, a copy elsewhere or an archive.
        ALTER TABLE claims ADD COLUMN reported TEXT;
        ALTER TABLE claims ADD COLUMN distinct_from TEXT NOT NULL DEFAULT '[]'
            CHECK (json_valid(distinct_from));
        -- An imported claim that several identical records make: the records after the first.
        ALTER TABLE claims ADD COLUMN provenance_merged TEXT NOT NULL DEFAULT '[]'
            CHECK (json_valid(provenance_merged));
        ALTER TABLE sources ADD COLUMN link TEXT NOT NULL DEFAULT 'original'
            CHECK (link IN ('original', 'copy', 'archive'));
        DROP INDEX sources_identity;
        CREATE UNIQUE INDEX sources_identity ON sources(
            coalesce(url, ''), title, coalesce(publisher, ''), coalesce(date, ''), link
        );
        """,
    ),
    (
        6,
        """
        -- Full-text search over what a claim says: its text, product, goods and end user. The
        -- index reads the claims table (external content), and the triggers keep it in step with
        -- every write to claims, whichever code makes it (a build, an import, a correction, a
        -- revert). Words are folded (case, accents) and stemmed ("drones" finds "drone").
        -- PostgreSQL: a generated tsvector column with a GIN index serves the same queries.
        CREATE VIRTUAL TABLE claims_fts USING fts5(
            text, product, goods, end_user,
            content = 'claims', content_rowid = 'rowid',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER claims_fts_insert AFTER INSERT ON claims BEGIN
            INSERT INTO claims_fts (rowid, text, product, goods, end_user)
            VALUES (new.rowid, new.text, new.product, new.goods, new.end_user);
        END;
        CREATE TRIGGER claims_fts_delete AFTER DELETE ON claims BEGIN
            INSERT INTO claims_fts (claims_fts, rowid, text, product, goods, end_user)
            VALUES ('delete', old.rowid, old.text, old.product, old.goods, old.end_user);
        END;
        CREATE TRIGGER claims_fts_update AFTER UPDATE OF text, product, goods, end_user ON claims
        BEGIN
            INSERT INTO claims_fts (claims_fts, rowid, text, product, goods, end_user)
            VALUES ('delete', old.rowid, old.text, old.product, old.goods, old.end_user);
            INSERT INTO claims_fts (rowid, text, product, goods, end_user)
            VALUES (new.rowid, new.text, new.product, new.goods, new.end_user);
        END;
        INSERT INTO claims_fts (claims_fts) VALUES ('rebuild');
        -- "israeli drones": the firms based in a country named in a query.
        CREATE INDEX entities_headquarters ON entities (json_extract(attributes, '$.headquarters'))
            WHERE kind = 'firm';
        -- What places a claim on a card (KnowledgeBase.claim_places): its suppliers, brokers,
        -- recipients and instruments as "role id role id ..." in order, kept by triggers on
        -- claim_parties, and covering indexes, so the order of a card of thousands of claims is
        -- read from two indexes without reading a claim.
        ALTER TABLE claims ADD COLUMN party_roles TEXT;
        CREATE TRIGGER claim_parties_roles_insert AFTER INSERT ON claim_parties BEGIN
            UPDATE claims SET party_roles = (
                SELECT group_concat(pair, ' ') FROM (
                    SELECT q.role || ' ' || q.entity_id AS pair FROM claim_parties q
                    WHERE q.claim_id = new.claim_id
                    AND q.role IN ('supplier', 'broker', 'recipient', 'instrument')
                    ORDER BY q.position))
            WHERE id = new.claim_id;
        END;
        CREATE TRIGGER claim_parties_roles_delete AFTER DELETE ON claim_parties BEGIN
            UPDATE claims SET party_roles = (
                SELECT group_concat(pair, ' ') FROM (
                    SELECT q.role || ' ' || q.entity_id AS pair FROM claim_parties q
                    WHERE q.claim_id = old.claim_id
                    AND q.role IN ('supplier', 'broker', 'recipient', 'instrument')
                    ORDER BY q.position))
            WHERE id = old.claim_id;
        END;
        CREATE TRIGGER claim_parties_roles_update AFTER UPDATE ON claim_parties BEGIN
            UPDATE claims SET party_roles = (
                SELECT group_concat(pair, ' ') FROM (
                    SELECT q.role || ' ' || q.entity_id AS pair FROM claim_parties q
                    WHERE q.claim_id = claims.id
                    AND q.role IN ('supplier', 'broker', 'recipient', 'instrument')
                    ORDER BY q.position))
            WHERE id IN (old.claim_id, new.claim_id);
        END;
        UPDATE claims SET party_roles = (
            SELECT group_concat(pair, ' ') FROM (
                SELECT q.role || ' ' || q.entity_id AS pair FROM claim_parties q
                WHERE q.claim_id = claims.id
                AND q.role IN ('supplier', 'broker', 'recipient', 'instrument')
                ORDER BY q.position));
        CREATE INDEX claim_parties_card ON claim_parties (entity_id, claim_id, role, position);
        CREATE INDEX claims_card ON claims (id, category, date, reported, goods, party_roles);
        """,
    ),
]

# Features add their migrations to the list above; keep them in order of their numbers.
MIGRATIONS.sort(key=lambda migration: migration[0])
LATEST = MIGRATIONS[-1][0]
