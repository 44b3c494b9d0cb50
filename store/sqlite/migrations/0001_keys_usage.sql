-- API keys and the record of what each successful request cost.
-- Times are Unix microseconds (UTC). The secret itself is never stored:
-- secret_hash is its SHA-256.
CREATE TABLE keys (
	id              TEXT    PRIMARY KEY,
	name            TEXT    NOT NULL DEFAULT '',
	secret_hash     BLOB    NOT NULL UNIQUE,
	credits         INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
	free_credits    INTEGER NOT NULL DEFAULT 0 CHECK (free_credits >= 0),
	rate_per_minute INTEGER NOT NULL DEFAULT 0 CHECK (rate_per_minute >= 0),
	disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	admin           INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
	created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE usage (
	seq        INTEGER PRIMARY KEY,
	request_id TEXT    NOT NULL UNIQUE,
	key_id     TEXT    NOT NULL REFERENCES keys (id),
	cost       INTEGER NOT NULL CHECK (cost >= 0),
	at         INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_key_at ON usage (key_id, at);
