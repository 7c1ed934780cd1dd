// pulumi-resource-hcloud is the resource plugin the Pulumi engine starts for @pulumi/hcloud.
//
// The two embedded files do not live in this directory: build.sh generates them with
// pulumi-tfgen-hcloud into a temporary directory and maps them here with `go build -overlay`,
// so a plain `go build` of this package fails on purpose (no plugin without a fresh schema).
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"app-infra/tools/engine/provider-hcloud/hcloudinfo"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pfbridge.MainWithMuxer(context.Background(), "hcloud", hcloudinfo.Info(metadata), schema)
}
