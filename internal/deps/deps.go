//go:build tools

// Package deps pins modules the API work adds before its code lands, so
// that parallel work does not edit go.mod at once. Removed once used.
package deps

import (
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "modernc.org/sqlite"
)
