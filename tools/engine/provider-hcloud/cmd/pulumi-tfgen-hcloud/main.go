// pulumi-tfgen-hcloud writes the Pulumi schema and bridge metadata for our hcloud bridge.
// build.sh runs: pulumi-tfgen-hcloud schema --out DIR --skip-docs --skip-examples
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"app-infra/tools/engine/provider-hcloud/hcloudinfo"
)

func main() {
	tfgen.MainWithMuxer("hcloud", hcloudinfo.Info(nil))
}
