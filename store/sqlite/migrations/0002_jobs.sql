-- Asynchronous requests (POST /v2/...): what was asked, where it stands, and
-- once finished its answer, kept until expires_at. Times are Unix
-- microseconds (UTC); 0 means not yet. The queue that hands jobs to workers
-- keeps its own tables; this is the record the API answers from.
CREATE TABLE jobs (
	id              TEXT    PRIMARY KEY,
	key_id          TEXT    NOT NULL REFERENCES keys (id),
	status          TEXT    NOT NULL CHECK (status IN ('QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED')),
	idempotency_key TEXT,
	webhook         TEXT    NOT NULL DEFAULT '',
	input           BLOB    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	content_type    TEXT    NOT NULL DEFAULT '',
	result          BLOB,
	faces_swapped   INTEGER NOT NULL DEFAULT 0,
	metrics         BLOB,
	cost            INTEGER NOT NULL DEFAULT 0,
	error_status    INTEGER NOT NULL DEFAULT 0,
	error_message   TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	started_at      INTEGER NOT NULL DEFAULT 0,
	finished_at     INTEGER NOT NULL DEFAULT 0,
	expires_at      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One job per (key, Idempotency-Key); NULLs (no header) never collide.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (key_id, idempotency_key);
CREATE INDEX jobs_expires ON jobs (expires_at) WHERE expires_at > 0;
