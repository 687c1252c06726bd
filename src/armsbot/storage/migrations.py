"""Schema migrations, applied in order; ``PRAGMA user_version`` records the last one applied."""

from __future__ import annotations

from collections.abc import Iterable


def first_after(role: str, roles: str = "party_roles", find: str = "instr") -> str:
    """SQL for the id after the first ``role`` in the column ``roles`` ("role id role id ..."),
    ``find`` being the dialect's function for where a string is in another (SQLite's instr,
    PostgreSQL's strpos)."""
    at = f"{find}(' ' || {roles}, ' {role} ') + {len(role) + 1}"
    return (
        f"CASE WHEN {find}(' ' || {roles}, ' {role} ') > 0 THEN substr("
        f"substr({roles} || ' ', {at}), 1, {find}(substr({roles} || ' ', {at}), ' ') - 1)"
        " END"
    )


def party_keys_of(claim_id: str) -> str:
    """SQL for the parties of the claim ``claim_id`` as words (migration 11): "k", the hex of
    each party's id, "0", in the order of the parties."""
    return (
        "(SELECT coalesce(group_concat(k, ' '), '') FROM ("
        "SELECT 'k' || lower(hex(q.entity_id)) || '0' AS k FROM claim_parties q"
        f" WHERE q.claim_id = {claim_id} ORDER BY q.position))"
    )


def party_roles_of(claim_id: str) -> str:
    """SQL for what places the claim ``claim_id`` on cards (migration 6): "role id role id ...",
    its suppliers, brokers, recipients and instruments in the order of its parties; NULL for
    none."""
    roles = ", ".join(f"'{role}'" for role in PLACING_ROLES)
    return (
        "(SELECT group_concat(pair, ' ') FROM ("
        "SELECT q.role || ' ' || q.entity_id AS pair FROM claim_parties q"
        f" WHERE q.claim_id = {claim_id} AND q.role IN ({roles}) ORDER BY q.position))"
    )


def begins_with(column: str, words: str) -> str:
    """SQL: whether ``column`` begins with ``words``, a whole word at a time (true when
    ``words`` is NULL, and when ``column`` is ``words``)."""
    return f"coalesce(instr(coalesce({column}, '') || ' ', {words} || ' ') = 1, 1)"


# The roles that place a claim on a card, in claims.party_roles (migration 6).
PLACING_ROLES = ("supplier", "broker", "recipient", "instrument")


def party_roles(parties: Iterable[tuple[str, str]]) -> str | None:
    """A claim's party_roles from its parties' (entity id, role) in order: what
    :func:`party_roles_of` computes, in Python."""
    return " ".join(f"{role} {entity}" for entity, role in parties if role in PLACING_ROLES) or None


def party_key(entity_id: str) -> str:
    """An entity id as the word ``claims_linked`` indexes for it (migration 11): "k", the hex
    of its UTF-8, "0"."""
    return "k" + entity_id.encode().hex() + "0"


def party_keys(entity_ids: Iterable[str]) -> str:
    """A claim's party_keys from its parties' entity ids in order: what :func:`party_keys_of`
    computes, in Python."""
    return " ".join(party_key(entity_id) for entity_id in entity_ids)


def _party_column_trigger(name: str, column: str, value: str) -> str:
    """Migration 12: the trigger ``name`` that writes ``column`` of an inserted party's claim as
    ``value`` (SQL over its parties so far), unless that value begins what is stored."""
    return f"""
        DROP TRIGGER {name};
        CREATE TRIGGER {name} AFTER INSERT ON claim_parties BEGIN
            UPDATE claims SET {column} = {value}
            WHERE id = new.claim_id AND NOT {begins_with(column, value)};
        END;
        """


def claim_order_key(row: str) -> str:
    """SQL for a claim's key in ``claims_fts_order`` (migration 10), its columns read from ``row``
    ("new.", "old.", "c." or ""): its category's rank, undated or not, its year (later first),
    then its rowid in the low 32 bits, so that the index's rowid order is the order claims are
    listed in."""
    date = f"coalesce({row}date, {row}reported)"
    return (
        f"(((CASE {row}category WHEN 'transfer' THEN 0 WHEN 'use' THEN 1 WHEN 'embargo' THEN 2"
        " WHEN 'designation' THEN 3 WHEN 'legal' THEN 4 WHEN 'response' THEN 5"
        f" WHEN 'background' THEN 6 ELSE 7 END) * 2 + ({date} IS NULL)) * 16384 + 10000"
        f" - CASE WHEN {date} GLOB '[0-9][0-9][0-9][0-9]*'"
        f" THEN CAST(substr({date}, 1, 4) AS INTEGER) ELSE 0 END) * 4294967296 + {row}rowid"
    )


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
        5,
        """
        -- One row per imported dataset: what its last import read, brought and left out, kept
        -- for `armsbot db datasets` and /about. The claims and firms themselves carry the dataset
        -- (claims.provenance_dataset, entities.dataset); removing the dataset removes its row.
        CREATE TABLE datasets (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            licence       TEXT NOT NULL,
            attribution   TEXT NOT NULL,
            source        TEXT NOT NULL,
            checksum      TEXT NOT NULL,
            imported_at   TEXT NOT NULL,
            records_read  INTEGER NOT NULL,
            claims        INTEGER NOT NULL,
            records_merged INTEGER NOT NULL,
            firms_created TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(firms_created)),
            firms_matched TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(firms_matched)),
            -- [[record, reason], ...]: the records not imported, and why
            left_out      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(left_out))
        ) STRICT;
        """,
    ),
    (
        7,
        """
        -- A channel follows an entity (/watch): notices report the changes after reported_through.
        CREATE TABLE watches (
            channel_id       TEXT NOT NULL,
            entity_id        TEXT NOT NULL,
            guild_id         TEXT NOT NULL,
            created_by       TEXT NOT NULL,
            created_at       TEXT NOT NULL,
            -- the newest change already reported here, or the newest when the watch began
            reported_through INTEGER NOT NULL,
            PRIMARY KEY (channel_id, entity_id)
        ) STRICT;
        CREATE INDEX watches_entity ON watches(entity_id);
        CREATE INDEX watches_guild ON watches(guild_id);

        -- Channels the bot failed to post notices in; disabled after repeated failures.
        CREATE TABLE watch_channels (
            channel_id  TEXT PRIMARY KEY,
            guild_id    TEXT NOT NULL,
            failures    INTEGER NOT NULL DEFAULT 0,
            last_error  TEXT,
            retry_at    TEXT,
            disabled_at TEXT
        ) STRICT;

        -- What changed on a watched entity's card, written by the transaction that changed it
        -- (approval, revert, import, removal, rebuild: see armsbot.storage.changelog).
        CREATE TABLE entity_changes (
            id            INTEGER PRIMARY KEY,
            entity_id     TEXT NOT NULL,
            entity_name   TEXT NOT NULL,
            change        TEXT NOT NULL CHECK (change IN ('claim_added', 'claim_removed',
                'claim_status', 'claim_text', 'entry_created', 'entry_removed', 'entry_edited')),
            claim_id      TEXT,
            claim_text    TEXT,
            status_before TEXT,
            status_after  TEXT,
            detail        TEXT,
            actor_id      TEXT NOT NULL,
            correction_id INTEGER,
            revision_id   INTEGER,
            at            TEXT NOT NULL
        ) STRICT;
        CREATE INDEX entity_changes_entity ON entity_changes(entity_id, id);

        -- One notice: its changes fixed and its nonce made before it is sent, marked sent after,
        -- so a crash in between sends it again with the same nonce (Discord keeps one message).
        CREATE TABLE watch_notices (
            id           INTEGER PRIMARY KEY,
            channel_id   TEXT NOT NULL,
            guild_id     TEXT NOT NULL,
            entity_id    TEXT NOT NULL,
            first_change INTEGER NOT NULL,
            last_change  INTEGER NOT NULL,
            nonce        TEXT NOT NULL UNIQUE,
            state        TEXT NOT NULL DEFAULT 'sending'
                CHECK (state IN ('sending', 'sent', 'dropped')),
            claimed_at   TEXT NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            sent_at      TEXT,
            message_id   TEXT
        ) STRICT;
        CREATE INDEX watch_notices_sending ON watch_notices(channel_id) WHERE state = 'sending';

        -- What a transaction touched, as it was before: triggers fill these on every write path,
        -- and the transaction turns them into entity_changes and empties them before it commits.
        -- Nothing is staged while nobody watches anything.
        CREATE TABLE watch_staged_claims (
            claim_id TEXT PRIMARY KEY,
            existed  INTEGER NOT NULL,
            status   TEXT,
            text     TEXT,
            home     TEXT,
            dataset  TEXT,
            parties  TEXT
        ) STRICT;
        CREATE TABLE watch_staged_entities (
            entity_id  TEXT PRIMARY KEY,
            existed    INTEGER NOT NULL,
            name       TEXT,
            summary    TEXT,
            attributes TEXT,
            dataset    TEXT,
            aliases    TEXT
        ) STRICT;
        CREATE TABLE watch_staged_revisions (revision_id INTEGER PRIMARY KEY) STRICT;

        CREATE TRIGGER watch_claims_delete BEFORE DELETE ON claims
        WHEN EXISTS (SELECT 1 FROM watches)
            AND NOT EXISTS (SELECT 1 FROM watch_staged_claims WHERE claim_id = old.id)
        BEGIN
            INSERT INTO watch_staged_claims VALUES (old.id, 1, old.status, old.text,
                old.home_entity_id, old.provenance_dataset,
                (SELECT json_group_array(entity_id) FROM claim_parties WHERE claim_id = old.id));
        END;
        CREATE TRIGGER watch_claims_update BEFORE UPDATE OF status, text, home_entity_id ON claims
        WHEN EXISTS (SELECT 1 FROM watches)
            AND NOT EXISTS (SELECT 1 FROM watch_staged_claims WHERE claim_id = old.id)
        BEGIN
            INSERT INTO watch_staged_claims VALUES (old.id, 1, old.status, old.text,
                old.home_entity_id, old.provenance_dataset,
                (SELECT json_group_array(entity_id) FROM claim_parties WHERE claim_id = old.id));
        END;
        CREATE TRIGGER watch_claims_insert AFTER INSERT ON claims
        WHEN EXISTS (SELECT 1 FROM watches)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_claims (claim_id, existed) VALUES (new.id, 0);
        END;
        CREATE TRIGGER watch_claim_parties_delete BEFORE DELETE ON claim_parties
        WHEN EXISTS (SELECT 1 FROM watches)
            AND NOT EXISTS (SELECT 1 FROM watch_staged_claims WHERE claim_id = old.claim_id)
        BEGIN
            INSERT INTO watch_staged_claims
            SELECT c.id, 1, c.status, c.text, c.home_entity_id, c.provenance_dataset,
                (SELECT json_group_array(entity_id) FROM claim_parties WHERE claim_id = c.id)
            FROM claims c WHERE c.id = old.claim_id;
        END;
        CREATE TRIGGER watch_claim_parties_insert AFTER INSERT ON claim_parties
        WHEN EXISTS (SELECT 1 FROM watches)
            AND NOT EXISTS (SELECT 1 FROM watch_staged_claims WHERE claim_id = new.claim_id)
        BEGIN
            INSERT INTO watch_staged_claims
            SELECT c.id, 1, c.status, c.text, c.home_entity_id, c.provenance_dataset,
                (SELECT json_group_array(entity_id) FROM claim_parties
                 WHERE claim_id = c.id AND position != new.position)
            FROM claims c WHERE c.id = new.claim_id;
        END;

        CREATE TRIGGER watch_entities_delete BEFORE DELETE ON entities
        WHEN EXISTS (SELECT 1 FROM watches WHERE entity_id = old.id)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_entities VALUES (old.id, 1, old.name, old.summary,
                old.attributes, old.dataset,
                (SELECT json_group_array(name) FROM aliases
                 WHERE entity_id = old.id AND origin = 'data'));
        END;
        CREATE TRIGGER watch_entities_update BEFORE UPDATE OF name, summary, attributes ON entities
        WHEN EXISTS (SELECT 1 FROM watches WHERE entity_id = old.id)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_entities VALUES (old.id, 1, old.name, old.summary,
                old.attributes, old.dataset,
                (SELECT json_group_array(name) FROM aliases
                 WHERE entity_id = old.id AND origin = 'data'));
        END;
        CREATE TRIGGER watch_entities_insert AFTER INSERT ON entities
        WHEN EXISTS (SELECT 1 FROM watches WHERE entity_id = new.id)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_entities (entity_id, existed) VALUES (new.id, 0);
        END;
        CREATE TRIGGER watch_aliases_delete BEFORE DELETE ON aliases
        WHEN old.origin = 'data' AND EXISTS (SELECT 1 FROM watches WHERE entity_id = old.entity_id)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_entities
            SELECT e.id, 1, e.name, e.summary, e.attributes, e.dataset,
                (SELECT json_group_array(name) FROM aliases
                 WHERE entity_id = e.id AND origin = 'data')
            FROM entities e WHERE e.id = old.entity_id;
        END;
        CREATE TRIGGER watch_aliases_insert AFTER INSERT ON aliases
        WHEN new.origin = 'data' AND EXISTS (SELECT 1 FROM watches WHERE entity_id = new.entity_id)
        BEGIN
            INSERT OR IGNORE INTO watch_staged_entities
            SELECT e.id, 1, e.name, e.summary, e.attributes, e.dataset,
                (SELECT json_group_array(name) FROM aliases
                 WHERE entity_id = e.id AND origin = 'data' AND id != new.id)
            FROM entities e WHERE e.id = new.entity_id;
        END;

        CREATE TRIGGER watch_revisions_insert AFTER INSERT ON revisions
        WHEN EXISTS (SELECT 1 FROM watches)
        BEGIN
            INSERT INTO watch_staged_revisions VALUES (new.id);
        END;
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
    (
        9,
        """
        -- Ordering full-text matches (ClaimSearch): a narrow row per claim, keyed by the claim's
        -- rowid (the full-text index's rowid), with what orders and filters claims: the
        -- category's place in CATEGORY_ORDER (storage/claim_search.py), the event's date or else
        -- the report's, the status. A common word matches a tenth of all claims; ordering those
        -- reads these short rows instead of the claims' wide ones (a third of the time). Kept by
        -- triggers, whichever code writes claims. PostgreSQL needs no copy: it orders the
        -- matches of its tsvector index from the claims table.
        CREATE TABLE claim_order (
            rid      INTEGER PRIMARY KEY,  -- claims.rowid
            id       TEXT NOT NULL,
            rank     INTEGER NOT NULL,
            w        TEXT,                 -- coalesce(date, reported)
            category TEXT NOT NULL,
            status   TEXT NOT NULL
        );
        CREATE TRIGGER claim_order_insert AFTER INSERT ON claims BEGIN
            INSERT INTO claim_order (rid, id, rank, w, category, status) VALUES (
                new.rowid, new.id,
                CASE new.category WHEN 'transfer' THEN 0 WHEN 'use' THEN 1 WHEN 'embargo' THEN 2
                    WHEN 'designation' THEN 3 WHEN 'legal' THEN 4 WHEN 'response' THEN 5
                    WHEN 'background' THEN 6 ELSE 7 END,
                coalesce(new.date, new.reported), new.category, new.status);
        END;
        CREATE TRIGGER claim_order_delete AFTER DELETE ON claims BEGIN
            DELETE FROM claim_order WHERE rid = old.rowid;
        END;
        CREATE TRIGGER claim_order_update AFTER UPDATE OF id, category, date, reported, status
            ON claims
        BEGIN
            UPDATE claim_order SET id = new.id,
                rank = CASE new.category WHEN 'transfer' THEN 0 WHEN 'use' THEN 1
                    WHEN 'embargo' THEN 2 WHEN 'designation' THEN 3 WHEN 'legal' THEN 4
                    WHEN 'response' THEN 5 WHEN 'background' THEN 6 ELSE 7 END,
                w = coalesce(new.date, new.reported), category = new.category,
                status = new.status
            WHERE rid = old.rowid;
        END;
        INSERT INTO claim_order (rid, id, rank, w, category, status)
            SELECT rowid, id,
                CASE category WHEN 'transfer' THEN 0 WHEN 'use' THEN 1 WHEN 'embargo' THEN 2
                    WHEN 'designation' THEN 3 WHEN 'legal' THEN 4 WHEN 'response' THEN 5
                    WHEN 'background' THEN 6 ELSE 7 END,
                coalesce(date, reported), category, status
            FROM claims;
        -- The first page of a card (KnowledgeBase.claim_places): what places each claim about an
        -- entity on its card, a row per party, stored by entity in the card's order (oldest
        -- first, undated last): one range read, instead of a look-up in the claims index for
        -- each of an entity's thousands of claims and a sort. Kept by triggers on claim_parties
        -- and on the claims columns it copies; the copy of party_roles follows that column's own
        -- triggers, whichever fires first.
        CREATE TABLE card_places (
            entity_id   TEXT NOT NULL,
            undated     INTEGER NOT NULL,  -- w = ''
            w           TEXT NOT NULL,     -- coalesce(date, reported, '')
            claim_id    TEXT NOT NULL,
            position    INTEGER NOT NULL,  -- the party's, in the claim
            rid         INTEGER NOT NULL,  -- claims.rowid: the claims that link parties, by rowid
            role        TEXT NOT NULL,
            category    TEXT NOT NULL,
            goods       TEXT NOT NULL,
            party_roles TEXT,
            PRIMARY KEY (entity_id, undated, w, claim_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX card_places_claim ON card_places (claim_id, position);
        CREATE TRIGGER card_places_insert AFTER INSERT ON claim_parties BEGIN
            INSERT INTO card_places
                SELECT new.entity_id, coalesce(c.date, c.reported, '') = '',
                    coalesce(c.date, c.reported, ''), new.claim_id, new.position, c.rowid,
                    new.role, c.category, c.goods, c.party_roles
                FROM claims c WHERE c.id = new.claim_id;
        END;
        CREATE TRIGGER card_places_delete AFTER DELETE ON claim_parties BEGIN
            DELETE FROM card_places WHERE claim_id = old.claim_id AND position = old.position;
        END;
        CREATE TRIGGER card_places_update AFTER UPDATE ON claim_parties BEGIN
            DELETE FROM card_places WHERE claim_id = old.claim_id AND position = old.position;
            INSERT INTO card_places
                SELECT new.entity_id, coalesce(c.date, c.reported, '') = '',
                    coalesce(c.date, c.reported, ''), new.claim_id, new.position, c.rowid,
                    new.role, c.category, c.goods, c.party_roles
                FROM claims c WHERE c.id = new.claim_id;
        END;
        CREATE TRIGGER card_places_claim AFTER UPDATE OF category, date, reported, goods,
            party_roles ON claims
        BEGIN
            UPDATE card_places SET category = new.category,
                undated = coalesce(new.date, new.reported, '') = '',
                w = coalesce(new.date, new.reported, ''), goods = new.goods,
                party_roles = new.party_roles
            WHERE claim_id = new.id;
        END;
        INSERT INTO card_places
            SELECT p.entity_id, coalesce(c.date, c.reported, '') = '',
                coalesce(c.date, c.reported, ''), p.claim_id, p.position, c.rowid, p.role,
                c.category, c.goods, c.party_roles
            FROM claim_parties p JOIN claims c ON c.id = p.claim_id;
        """,
    ),
    (
        10,
        """
        -- The groups of a card (services/card_order.py): claims grouped under one heading all
        -- name the same first counterpart (a transfer's first supplier, or else broker, for a
        -- recipient; its first recipient for a supplier or broker; a listing's first
        -- instrument), read from party_roles ("role id role id ...") and indexed with the
        -- entity, its role and the category: a group's claims are one look-up, and a section's
        -- count a range of the index, instead of reading every claim of a busy entity. A
        -- virtual column, so whatever writes card_places keeps the index in step.
        -- The id after the first "supplier" (or other role) in party_roles: entity ids have no
        -- spaces, and none is a role's name (KnowledgeBase.card_sections checks).
        ALTER TABLE card_places ADD COLUMN lead TEXT GENERATED ALWAYS AS (CASE
            WHEN category = 'transfer' AND role IN ('supplier', 'broker') THEN
                """
        + first_after("recipient")
        + """
            WHEN category = 'transfer' THEN coalesce(
                """
        + first_after("supplier")
        + """,
                """
        + first_after("broker")
        + """)
            WHEN category IN ('embargo', 'designation') THEN
                """
        + first_after("instrument")
        + """
            END) VIRTUAL;
        CREATE INDEX card_places_lead ON card_places (entity_id, role, category, lead);
        -- The first page of a common word's matches (ClaimSearch): the full-text index again,
        -- its rowids in the order claims are listed, so that the matches come out in that order
        -- and only a page's worth is read, instead of joining all ten thousand to claim_order
        -- and sorting them. A claim's key: its category's rank, undated or not, its year (later
        -- first), then its rowid (the low 32 bits); the claims of one year are put in order of
        -- their dates and ids by joining only those to claim_order. Contentless: the words are
        -- in claims_fts's content, the claims table. Kept by triggers, like claims_fts.
        CREATE VIRTUAL TABLE claims_fts_order USING fts5(
            text, product, goods, end_user,
            content = '',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER claims_fts_order_insert AFTER INSERT ON claims BEGIN
            INSERT INTO claims_fts_order (rowid, text, product, goods, end_user) VALUES (
                """
        + claim_order_key("new.")
        + """,
                new.text, new.product, new.goods, new.end_user);
        END;
        CREATE TRIGGER claims_fts_order_delete AFTER DELETE ON claims BEGIN
            INSERT INTO claims_fts_order (claims_fts_order, rowid, text, product, goods, end_user)
            VALUES ('delete', """
        + claim_order_key("old.")
        + """,
                old.text, old.product, old.goods, old.end_user);
        END;
        CREATE TRIGGER claims_fts_order_update AFTER UPDATE OF text, product, goods, end_user,
            category, date, reported ON claims
        BEGIN
            INSERT INTO claims_fts_order (claims_fts_order, rowid, text, product, goods, end_user)
            VALUES ('delete', """
        + claim_order_key("old.")
        + """,
                old.text, old.product, old.goods, old.end_user);
            INSERT INTO claims_fts_order (rowid, text, product, goods, end_user) VALUES (
                """
        + claim_order_key("new.")
        + """,
                new.text, new.product, new.goods, new.end_user);
        END;
        INSERT INTO claims_fts_order (rowid, text, product, goods, end_user)
            SELECT """
        + claim_order_key("")
        + """, text, product, goods, end_user
            FROM claims;
        -- Dates that are not YYYY[-MM[-DD]] (written around armsbot) have no year in the key:
        -- while there are any, the matches are ordered the old way (ClaimSearch checks here).
        CREATE INDEX claim_order_odd_dates ON claim_order (rid)
            WHERE w IS NOT NULL AND NOT (w GLOB '[0-9][0-9][0-9][0-9]*');
        """,
    ),
    (
        11,
        """
        -- "Benin journalists": the claims that name a party of each group and the words, found
        -- by the full-text index alone, which intersects its lists itself, instead of probing
        -- the ten thousand matches of a common word against the thousands of claims of a country
        -- and its firms. Each claim's parties as words (ClaimSearch: party_key): "k", the hex of
        -- the id, "0" (a word that stemming leaves alone and no other id makes), kept by triggers
        -- on claim_parties; a second external-content FTS5 index over the words and these.
        ALTER TABLE claims ADD COLUMN party_keys TEXT NOT NULL DEFAULT '';
        CREATE TRIGGER claim_parties_keys_insert AFTER INSERT ON claim_parties BEGIN
            UPDATE claims SET party_keys = """
        + party_keys_of("new.claim_id")
        + """
            WHERE id = new.claim_id;
        END;
        CREATE TRIGGER claim_parties_keys_delete AFTER DELETE ON claim_parties BEGIN
            UPDATE claims SET party_keys = """
        + party_keys_of("old.claim_id")
        + """
            WHERE id = old.claim_id;
        END;
        CREATE TRIGGER claim_parties_keys_update AFTER UPDATE ON claim_parties BEGIN
            UPDATE claims SET party_keys = """
        + party_keys_of("claims.id")
        + """
            WHERE id IN (old.claim_id, new.claim_id);
        END;
        UPDATE claims SET party_keys = """
        + party_keys_of("claims.id")
        + """;
        CREATE VIRTUAL TABLE claims_linked USING fts5(
            text, product, goods, end_user, party_keys,
            content = 'claims', content_rowid = 'rowid',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER claims_linked_insert AFTER INSERT ON claims BEGIN
            INSERT INTO claims_linked (rowid, text, product, goods, end_user, party_keys)
            VALUES (new.rowid, new.text, new.product, new.goods, new.end_user, new.party_keys);
        END;
        CREATE TRIGGER claims_linked_delete AFTER DELETE ON claims BEGIN
            INSERT INTO claims_linked (claims_linked, rowid, text, product, goods, end_user,
                party_keys)
            VALUES ('delete', old.rowid, old.text, old.product, old.goods, old.end_user,
                old.party_keys);
        END;
        CREATE TRIGGER claims_linked_update AFTER UPDATE OF text, product, goods, end_user,
            party_keys ON claims
        BEGIN
            INSERT INTO claims_linked (claims_linked, rowid, text, product, goods, end_user,
                party_keys)
            VALUES ('delete', old.rowid, old.text, old.product, old.goods, old.end_user,
                old.party_keys);
            INSERT INTO claims_linked (rowid, text, product, goods, end_user, party_keys)
            VALUES (new.rowid, new.text, new.product, new.goods, new.end_user, new.party_keys);
        END;
        INSERT INTO claims_linked (claims_linked) VALUES ('rebuild');
        """,
    ),
    (
        12,
        """
        -- A claim is inserted with its party_roles and party_keys already whole
        -- (KnowledgeBase.insert_claim), then its parties in order. Each party's insert used to
        -- write the two columns again, the value of the parties so far, short then longer: the
        -- claim's card places rewritten and its words indexed again (claims_linked) once per
        -- party, over half of a rebuild's SQL. The value of the parties so far begins the value
        -- stored then, and the insert leaves it be. Any other insert of a party makes the value
        -- longer than the one stored (it was the value of the other parties), and writes it as
        -- before.
        """
        + _party_column_trigger(
            "claim_parties_roles_insert", "party_roles", party_roles_of("new.claim_id")
        )
        + _party_column_trigger(
            "claim_parties_keys_insert", "party_keys", party_keys_of("new.claim_id")
        ),
    ),
]

# Features add their migrations to the list above; keep them in order of their numbers.
MIGRATIONS.sort(key=lambda migration: migration[0])
LATEST = MIGRATIONS[-1][0]
