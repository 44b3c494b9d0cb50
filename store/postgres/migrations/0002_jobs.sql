-- Asynchronous requests (POST /v2/...), the same data as store/sqlite keeps:
-- what was asked, where it stands, and once finished its answer, kept until
-- expires_at. The queue that hands jobs to workers keeps its own tables;
-- this is the record the API answers from.
CREATE TABLE jobs (
	id              text        PRIMARY KEY,
	key_id          text        NOT NULL REFERENCES keys (id),
	status          text        NOT NULL CHECK (status IN ('QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED')),
	idempotency_key text,
	webhook         text        NOT NULL DEFAULT '',
	input           bytea       NOT NULL,
	attempts        integer     NOT NULL DEFAULT 0,
	content_type    text        NOT NULL DEFAULT '',
	result          bytea,
	faces_swapped   integer     NOT NULL DEFAULT 0,
	metrics         bytea,
	cost            bigint      NOT NULL DEFAULT 0,
	error_status    integer     NOT NULL DEFAULT 0,
	error_message   text        NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	started_at      timestamptz,
	finished_at     timestamptz,
	expires_at      timestamptz
);

-- One job per (key, Idempotency-Key); NULLs (no header) never collide.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (key_id, idempotency_key);
CREATE INDEX jobs_expires ON jobs (expires_at) WHERE expires_at IS NOT NULL;
