-- API keys and the record of what each successful request cost, the same
-- data as store/sqlite keeps. The secret itself is never stored:
-- secret_hash is its SHA-256. seq orders keys made in the same microsecond.
CREATE TABLE keys (
	id              text        PRIMARY KEY,
	seq             bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
	name            text        NOT NULL DEFAULT '',
	secret_hash     bytea       NOT NULL UNIQUE,
	credits         bigint      NOT NULL DEFAULT 0 CHECK (credits >= 0),
	free_credits    bigint      NOT NULL DEFAULT 0 CHECK (free_credits >= 0),
	rate_per_minute integer     NOT NULL DEFAULT 0 CHECK (rate_per_minute >= 0),
	disabled        boolean     NOT NULL DEFAULT false,
	admin           boolean     NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL
);

CREATE TABLE usage (
	seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id text        NOT NULL UNIQUE,
	key_id     text        NOT NULL REFERENCES keys (id),
	cost       bigint      NOT NULL CHECK (cost >= 0),
	at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX usage_key_at ON usage (key_id, at);
