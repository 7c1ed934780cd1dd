// Command pulumi-tfgen-docker writes the Pulumi schema for our bridged docker provider. build.sh
// runs `pulumi-tfgen-docker schema --out DIR` and embeds DIR/schema.json in the plugin.
//
// It prints "warning: Unable to find the upstream provider's documentation": expected. Pointing
// ProviderInfo.UpstreamRepoPath at the module download's docs/ makes tfgen convert the HCL
// examples, which needs a `pulumi` binary on PATH (bridge v3.120.0 pkg/tfgen, convertViaPulumiCLI)
// and panics without one. Descriptions are not needed by the engine, so we go without them.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"app-infra/tools/engine/provider-docker/provider"
)

func main() {
	tfgen.Main("docker", provider.Version, provider.Info())
}
