-- okvqa knowledge base (one SQLite file). Applied idempotently by src/knowledge/store.ts.
-- Entities are written once (INSERT OR IGNORE by `id`), so an interrupted build resumes safely.

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS entities (
  rowid       INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,      -- Wikidata QID ("Q144") or WordNet synset ("wn:n02084071")
  label       TEXT NOT NULL,             -- English label / first lemma
  description TEXT NOT NULL,             -- English description / gloss
  text        TEXT NOT NULL,             -- "{label} is a {description}" (what gets embedded)
  source      TEXT NOT NULL,             -- "wikidata" | "wordnet"
  categories  TEXT NOT NULL DEFAULT '[]',-- JSON array: category classes reached (Wikidata) / lexicographer file (WordNet)
  broader     TEXT NOT NULL DEFAULT '[]' -- JSON array: hypernym chain, nearest first (WordNet)
);

-- Full-text index over the entity text (external content: no second copy of the text).
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5(text, content='entities', content_rowid='rowid');
CREATE TRIGGER IF NOT EXISTS entities_ai AFTER INSERT ON entities BEGIN
  INSERT INTO entities_fts(rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS entities_ad AFTER DELETE ON entities BEGIN
  INSERT INTO entities_fts(entities_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS entities_au AFTER UPDATE OF text ON entities BEGIN
  INSERT INTO entities_fts(entities_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
  INSERT INTO entities_fts(rowid, text) VALUES (new.rowid, new.text);
END;

-- Embeddings keyed by (entity, embedding model): little-endian float32, L2-normalised.
CREATE TABLE IF NOT EXISTS vectors (
  model  TEXT NOT NULL,
  entity INTEGER NOT NULL REFERENCES entities(rowid) ON DELETE CASCADE,
  dim    INTEGER NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (model, entity)
) WITHOUT ROWID;

-- Wikidata build: classes whose P279 closure reaches a category (pass 1 result), with a bit mask of the categories.
CREATE TABLE IF NOT EXISTS classes (
  qid  INTEGER PRIMARY KEY,
  mask INTEGER NOT NULL
);

-- Approximate-search indexes over the vectors of one model (e.g. the IVF layout), rebuilt when the vectors change.
CREATE TABLE IF NOT EXISTS indexes (
  model   TEXT NOT NULL,
  kind    TEXT NOT NULL,
  vectors INTEGER NOT NULL,   -- number of vectors indexed (stale when it differs)
  params  TEXT NOT NULL,
  data    BLOB NOT NULL,
  PRIMARY KEY (model, kind)
) WITHOUT ROWID;

-- Content identity (what retrieval cache keys use): `build_id` is drawn once when the file is created; `content_version`
-- goes up on every insert, update or delete of an entity or a vector (the triggers below, so edits made with any SQLite
-- client count too). `schema_version` is the layout of this file.
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '2');
INSERT OR IGNORE INTO meta (key, value) VALUES ('build_id', lower(hex(randomblob(16))));
INSERT OR IGNORE INTO meta (key, value) VALUES ('content_version', '0');
CREATE TRIGGER IF NOT EXISTS kb_version_entities_ai AFTER INSERT ON entities BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
CREATE TRIGGER IF NOT EXISTS kb_version_entities_au AFTER UPDATE ON entities BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
CREATE TRIGGER IF NOT EXISTS kb_version_entities_ad AFTER DELETE ON entities BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
CREATE TRIGGER IF NOT EXISTS kb_version_vectors_ai AFTER INSERT ON vectors BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
CREATE TRIGGER IF NOT EXISTS kb_version_vectors_au AFTER UPDATE ON vectors BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
CREATE TRIGGER IF NOT EXISTS kb_version_vectors_ad AFTER DELETE ON vectors BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'content_version';
END;
