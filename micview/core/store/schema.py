"""The project file's SQLite schema and its forward migrations.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[v]`` is the SQL script that turns a
version-``v`` file into ``v + 1``; each runs in one transaction together with the version bump, so a failed
migration leaves the file as it was. A new file is built by running every migration from 0, so a fresh file
and a migrated old one always have the same schema. Never edit a released migration: add a new one.
"""

from __future__ import annotations

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE images (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,   -- POSIX, relative to the project file's folder when under it
    name          TEXT NOT NULL,          -- file name, for joins on name and display
    folder        TEXT NOT NULL,          -- parent of path (same convention), for filtering by folder
    content_hash  TEXT,                   -- blake2b-128 hex of the file bytes; NULL until read
    size_bytes    INTEGER,
    mtime         REAL,
    status        TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'error', 'missing')),
    error         TEXT,                   -- why it could not be imported (status 'error')
    format        TEXT,
    width         INTEGER,
    height        INTEGER,
    frames        INTEGER,
    channels      INTEGER,
    dtype         TEXT,
    bit_depth     INTEGER,
    mode          TEXT,
    pixel_size_nm       REAL,
    pixel_size_y_nm     REAL,
    voltage_kv          REAL,
    magnification       REAL,
    hfw_um              REAL,
    working_distance_mm REAL,
    detector            TEXT,
    instrument          TEXT,
    acquired_at         TEXT,
    metadata_json TEXT,                   -- raw metadata as the file had it (size-capped)
    added_at      TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX images_hash ON images(content_hash);
CREATE INDEX images_folder ON images(folder);
CREATE INDEX images_name ON images(name);

CREATE TABLE thumbnails (
    image_id  INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    format    TEXT NOT NULL,              -- 'jpeg' or 'png'
    data      BLOB NOT NULL
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,           -- stable name to find a result again, e.g. 'embed:effnet-lite0'
    kind         TEXT NOT NULL,           -- 'embedding', 'map', 'classifier', 'analysis', 'import', ...
    method       TEXT NOT NULL,
    params_json  TEXT NOT NULL DEFAULT '{}',
    model_id     TEXT,
    weights_hash TEXT,
    app_version  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'done',
    notes        TEXT
);
CREATE INDEX runs_key ON runs(key);

-- Arrays a run produced (2-D map coordinates, classifier weights, ...), stored as .npy bytes.
CREATE TABLE run_arrays (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (run_id, name)
);

-- Keyed by content hash, not image id: a moved or duplicated file is not embedded again.
CREATE TABLE embeddings (
    model_id     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dim          INTEGER NOT NULL,
    dtype        TEXT NOT NULL,           -- 'float16' or 'float32', little-endian
    vector       BLOB NOT NULL,
    run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    PRIMARY KEY (model_id, content_hash)
);

CREATE TABLE label_tasks (
    name         TEXT PRIMARY KEY,
    classes_json TEXT NOT NULL DEFAULT '[]',  -- ordered class names (optional; labels may use others)
    groups_json  TEXT NOT NULL DEFAULT '{}',  -- fine label -> coarse group
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);

-- Append-only history: the current value is the newest row per (image, task, source[, model]).
-- A NULL label records "label removed", so undo and audit never destroy what a user did.
CREATE TABLE annotations (
    id          INTEGER PRIMARY KEY,
    image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    task        TEXT NOT NULL,
    label       TEXT,
    source      TEXT NOT NULL CHECK (source IN ('user', 'model')),
    score       REAL,
    scores_json TEXT,                      -- per-class scores for model output
    model_id    TEXT,
    run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    author      TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX annotations_current ON annotations(task, source, image_id, id);

CREATE TABLE notes (
    image_id   INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE tags (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (image_id, tag)
);

-- Metadata columns that came from a user's CSV (not from the file itself).
CREATE TABLE image_fields (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT,
    PRIMARY KEY (image_id, name)
);
"""

# v2: answers of vision-language models (free questions, multiple choice, descriptions), one row per answer.
_V2 = """
CREATE TABLE answers (
    id           INTEGER PRIMARY KEY,
    image_id     INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,           -- 'question', 'mcq', 'description'
    question     TEXT NOT NULL,
    answer       TEXT NOT NULL,           -- the text, or for 'mcq' the chosen option ('' when none)
    options_json TEXT,                    -- 'mcq': the options in letter order
    scores_json  TEXT,                    -- 'mcq': each option's probability, same order
    truth        TEXT,                    -- evaluation rows: the expected option
    item_key     TEXT,                    -- evaluation rows: the row's key, so a re-run skips it
    model_id     TEXT,
    run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    seconds      REAL,                    -- model time spent on this answer
    created_at   TEXT NOT NULL
);
CREATE INDEX answers_image ON answers(image_id, kind);
CREATE INDEX answers_run ON answers(run_id, item_key);
"""

# v3: the process that started a run ('host|pid|start token'), so a run whose process was killed is marked
# 'interrupted' at the next open instead of staying 'running' for ever.
_V3 = """
ALTER TABLE runs ADD COLUMN owner TEXT;
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3]
SCHEMA_VERSION = len(MIGRATIONS)
# The oldest format this micview can read without upgrading it first (a read-only file cannot be upgraded):
# v3 only adds a column that reading never needs.
READABLE_FROM = 2
APPLICATION_ID = 0x4D435657  # 'MCVW': lets `file` and micview tell a project from any other SQLite file
