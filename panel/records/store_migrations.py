"""The store's schema, as numbered migrations (``PRAGMA user_version`` counts those applied).

``Store`` (store.py) applies the missing ones in order when it opens a database, each in
one transaction; a database newer than this list is refused. Never edit a migration that
has shipped: add the next one.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: journal + cache, runs, records
    """
    CREATE TABLE calls (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'done', 'failed')),
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        persona TEXT NOT NULL,
        tool TEXT NOT NULL,
        run_id TEXT,
        result TEXT,
        updated_at REAL NOT NULL
    );
    CREATE INDEX calls_run ON calls (run_id, state);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL,
        summary TEXT
    );
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        run_id TEXT,
        tool_a TEXT NOT NULL,
        tool_b TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        provenance TEXT NOT NULL
    );
    CREATE INDEX records_tools ON records (tool_a, tool_b);
    """,
    # 2: community votes, one row per tool (the latest imported count)
    """
    CREATE TABLE votes (
        tool TEXT PRIMARY KEY,
        ship INTEGER NOT NULL CHECK (ship >= 0),
        skip INTEGER NOT NULL CHECK (skip >= 0),
        source TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 3: Batch API journal (records/batch_journal.py); calls gain 'submitted' and a failure history
    """
    CREATE TABLE calls3 (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL
            CHECK (state IN ('planned', 'in_flight', 'submitted', 'done', 'failed')),
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        persona TEXT NOT NULL,
        tool TEXT NOT NULL,
        run_id TEXT,
        result TEXT,
        updated_at REAL NOT NULL,
        failed_nights INTEGER NOT NULL DEFAULT 0,
        failed_on TEXT,
        failure TEXT
    );
    INSERT INTO calls3 (key, state, provider, model, persona, tool, run_id, result, updated_at)
        SELECT key, state, provider, model, persona, tool, run_id, result, updated_at FROM calls;
    DROP TABLE calls;
    ALTER TABLE calls3 RENAME TO calls;
    CREATE INDEX calls_run ON calls (run_id, state);
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('preparing', 'uploaded', 'submitted',
            'completed', 'failed', 'expired', 'cancelled')),
        file_id TEXT,
        batch_id TEXT,
        lines INTEGER NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        estimated_usd REAL,
        run_id TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        detail TEXT
    );
    CREATE TABLE batch_lines (
        custom_id TEXT PRIMARY KEY,
        batch TEXT NOT NULL REFERENCES batches (id),
        key TEXT NOT NULL,
        reasks INTEGER NOT NULL,
        messages TEXT NOT NULL,
        body TEXT NOT NULL,
        carried TEXT NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('submitted', 'answered', 'errored', 'lost', 'used')),
        result TEXT,
        cost REAL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX batch_lines_key ON batch_lines (key, state);
    CREATE INDEX batch_lines_batch ON batch_lines (batch, state);
    """,
    # 4: the tools panel has seen (a tool imported after a nightly is reviewed whatever its
    # launch date), and withheld answers count as failures for the nightly's retry cap
    """
    CREATE TABLE tools_seen (
        slug TEXT PRIMARY KEY,
        first_seen REAL NOT NULL,
        late INTEGER NOT NULL CHECK (late IN (0, 1))
    );
    UPDATE calls SET failed_nights = 1,
        failed_on = date(updated_at, 'unixepoch'), failure = result
        WHERE state = 'done' AND failed_nights = 0
        AND json_array_length(json_extract(result, '$.flags')) > 0;
    """,
]
