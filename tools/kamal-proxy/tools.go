//go:build tools

// Package kamalproxy pins kamal-proxy as a build dependency of this repository: build.sh runs
// `go build github.com/basecamp/kamal-proxy/cmd/kamal-proxy` inside this module, so go.mod and
// go.sum decide exactly what gets built. The build tag keeps the import out of any normal build.
package kamalproxy

import (
	_ "github.com/basecamp/kamal-proxy/cmd/kamal-proxy"
)
