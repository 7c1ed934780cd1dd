//go:build tools

// Package cli pins the Pulumi CLI as a build dependency of this repository: build.sh runs
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` inside this module, so the versions
// in go.mod / go.sum decide exactly what gets built. The build tag keeps the import out of any
// normal build of this directory.
package cli

import (
	// The CLI itself.
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	// Named so that go.mod lists the SDK as a direct requirement at the same version as pkg:
	// pkg's own go.mod replaces it with ../sdk, a replace that does not apply to us.
	_ "github.com/pulumi/pulumi/sdk/v3"
)
