// Command pulumi-resource-docker is the Pulumi resource plugin for docker, bridging
// kreuzwerker/terraform-provider-docker through pulumi-terraform-bridge.
//
// schema.json is not committed: build.sh generates it with pulumi-tfgen-docker and supplies it
// to this package through `go build -overlay`, so the source tree stays clean.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"app-infra/tools/engine/provider-docker/provider"
)

//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main("docker", provider.Version, provider.Info(), schema)
}
