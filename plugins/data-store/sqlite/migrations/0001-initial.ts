import type { Migration } from './index.js'

/**
 * The first schema. Times are unix milliseconds (INTEGER); booleans are 0/1; lists of plain
 * strings are JSON text. Selectors are kept twice: as a canonical JSON array (`selectors_key`,
 * what the uniqueness rule and reads use) and as child rows (what selector filters search).
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  up: `
CREATE TABLE entries (
  -- AUTOINCREMENT: a seq is never reused, so a page token ("after seq N") never skips a newer entry.
  seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
  id                    TEXT    NOT NULL UNIQUE,
  spiffe_id             TEXT    NOT NULL,
  parent_id             TEXT    NOT NULL,
  selectors_key         TEXT    NOT NULL,
  selector_count        INTEGER NOT NULL,
  x509_svid_ttl_seconds INTEGER NOT NULL,
  jwt_svid_ttl_seconds  INTEGER NOT NULL,
  dns_names             TEXT    NOT NULL,
  federates_with        TEXT    NOT NULL,
  admin                 INTEGER NOT NULL,
  downstream            INTEGER NOT NULL,
  expires_at            INTEGER,
  hint                  TEXT    NOT NULL,
  store_svid            INTEGER NOT NULL,
  revision_number       INTEGER NOT NULL,
  created_at            INTEGER NOT NULL,
  owner                 TEXT    NOT NULL,
  description           TEXT    NOT NULL,
  UNIQUE (spiffe_id, parent_id, selectors_key)
);
CREATE INDEX entries_parent_id ON entries (parent_id);
CREATE INDEX entries_expires_at ON entries (expires_at) WHERE expires_at IS NOT NULL;
-- Entries without selectors are a subset of every selector set: the subset filter looks them up here.
CREATE INDEX entries_without_selectors ON entries (seq) WHERE selector_count = 0;

CREATE TABLE entry_selectors (
  entry_seq INTEGER NOT NULL REFERENCES entries (seq) ON DELETE CASCADE,
  type      TEXT    NOT NULL,
  value     TEXT    NOT NULL,
  PRIMARY KEY (entry_seq, type, value)
) WITHOUT ROWID;
CREATE INDEX entry_selectors_type_value ON entry_selectors (type, value);

CREATE TABLE attested_nodes (
  seq                INTEGER PRIMARY KEY AUTOINCREMENT,
  spiffe_id          TEXT    NOT NULL UNIQUE,
  attestation_type   TEXT    NOT NULL,
  selectors_key      TEXT    NOT NULL,
  cert_serial        TEXT    NOT NULL,
  cert_not_after     INTEGER NOT NULL,
  new_cert_serial    TEXT    NOT NULL,
  new_cert_not_after INTEGER,
  banned             INTEGER NOT NULL,
  can_reattest       INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  last_seen_at       INTEGER
);
CREATE INDEX attested_nodes_cert_not_after ON attested_nodes (cert_not_after);

CREATE TABLE node_selectors (
  node_seq INTEGER NOT NULL REFERENCES attested_nodes (seq) ON DELETE CASCADE,
  type     TEXT    NOT NULL,
  value    TEXT    NOT NULL,
  PRIMARY KEY (node_seq, type, value)
) WITHOUT ROWID;
CREATE INDEX node_selectors_type_value ON node_selectors (type, value);

CREATE TABLE bundles (
  trust_domain         TEXT    PRIMARY KEY,
  -- Decimal text: spiffe_sequence is a uint64 and may exceed SQLite's signed 64-bit INTEGER.
  sequence_number      TEXT,
  refresh_hint_seconds INTEGER,
  updated_at           INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE bundle_x509_authorities (
  trust_domain TEXT    NOT NULL REFERENCES bundles (trust_domain) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  der          BLOB    NOT NULL,
  PRIMARY KEY (trust_domain, position)
) WITHOUT ROWID;

CREATE TABLE bundle_jwt_authorities (
  trust_domain TEXT    NOT NULL REFERENCES bundles (trust_domain) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  kid          TEXT    NOT NULL,
  spki_der     BLOB    NOT NULL,
  PRIMARY KEY (trust_domain, position),
  UNIQUE (trust_domain, kid)
) WITHOUT ROWID;

CREATE TABLE join_tokens (
  token_hash TEXT    PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  alias_id   TEXT,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX join_tokens_expires_at ON join_tokens (expires_at);

CREATE TABLE change_events (
  -- AUTOINCREMENT: IDs never go back, even after the newest events are pruned.
  event_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind     TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  at       INTEGER NOT NULL
);
CREATE INDEX change_events_at ON change_events (at);

CREATE TABLE audit_events (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       INTEGER NOT NULL,
  action   TEXT    NOT NULL,
  actor    TEXT    NOT NULL,
  subject  TEXT    NOT NULL,
  entry_id TEXT    NOT NULL,
  details  TEXT    NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_subject ON audit_events (subject, at, id);
`,
}
