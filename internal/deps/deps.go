//go:build tools

// Package deps pins modules the multi-node back ends add before their code
// lands, so that parallel work does not edit go.mod at once. Removed once
// the code uses them.
package deps

import (
	_ "github.com/go-redis/redis_rate/v10"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/redis/go-redis/v9"
)
