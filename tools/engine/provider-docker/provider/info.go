// Package provider describes how the Terraform docker provider (kreuzwerker) is presented to
// Pulumi: tokens, property renames and config defaults. It is shared by the schema generator
// (cmd/pulumi-tfgen-docker) and the plugin (cmd/pulumi-resource-docker) so both agree.
//
// The target is wire compatibility with the npm SDK @pulumi/docker 5.2.0 that the program uses:
// every token and property name below was checked against node_modules/@pulumi/docker/*.js
// (`__pulumiType`, `resourceInputs[...]`, `runtime.invoke(...)`).
package provider

import (
	"context"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/appinfrashim"
)

// Version is what the plugin reports and what the engine matches against the SDK's request.
// @pulumi/docker 5.2.0 asks for plugin version 5.2.0 (its package.json "pulumi.version"). The
// Terraform provider underneath is really kreuzwerker/terraform-provider-docker at pseudo-version
// v0.0.0-20260916201441-96d331c98ff4 (its CHANGELOG tops out at v4.6.0), the only version the
// module proxy serves; pulumi-docker 5.2.0 itself was built on upstream v4.5.0.
const Version = "5.2.0"

const (
	pkgName = "docker"
	modName = "index"
)

// Info returns the bridge description of the provider.
func Info() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(appinfrashim.NewSDKv2Provider(Version)),
		Name:        pkgName,
		Version:     Version,
		Description: "Docker resources bridged from kreuzwerker/terraform-provider-docker (app-infra engine build)",
		Keywords:    []string{"pulumi", "docker"},
		License:     "Apache-2.0",
		GitHubOrg:   "kreuzwerker",
		// No UpstreamRepoPath: tfgen would then need a `pulumi` binary to convert the upstream
		// docs' examples (see cmd/pulumi-tfgen-docker/main.go); descriptions stay short.

		Config: map[string]*tfbridge.SchemaInfo{
			// Upstream marks host Required with a DefaultFunc (DOCKER_HOST, else the local socket,
			// internal/provider/provider.go:45-57). Giving the bridge the same default keeps
			// `host` optional for Pulumi programs, as the 5.2.0 SDK expects (provider.js falls back
			// to DOCKER_HOST and otherwise sends nothing).
			"host": {
				Default: &tfbridge.DefaultInfo{
					EnvVars: []string{"DOCKER_HOST"},
					ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
						if v := os.Getenv("DOCKER_HOST"); v != "" {
							return v, nil
						}
						return "unix:///var/run/docker.sock", nil
					},
				},
			},
			// The SDK sends `registryAuth` (a list, JSON-encoded), not the pluralised name the
			// bridge would derive from a TF set.
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},

		Resources: map[string]*tfbridge.ResourceInfo{
			// Upstream docker_config is a swarm config; the SDK calls it ServiceConfig.
			"docker_config": {Tok: tfbridge.MakeResource(pkgName, modName, "ServiceConfig")},
			"docker_container": {
				Tok: tfbridge.MakeResource(pkgName, modName, "Container"),
				// Container names are unique per daemon, so a replacement must remove the old
				// container before creating the new one.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// Both are lists in TF; the SDK keeps the singular names.
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			// Upstream docker_image pulls an image; the SDK's `Image` token is a separate native
			// build resource that this plugin does not provide.
			"docker_image": {
				Tok: tfbridge.MakeResource(pkgName, modName, "RemoteImage"),
				// `name` is the image reference, not a label: keep it required and never auto-named.
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
		},

		DataSources: map[string]*tfbridge.DataSourceInfo{
			// docker_image as a data source is getRemoteImage in the SDK (getImage would clash
			// with the native Image resource's naming).
			"docker_image": {Tok: tfbridge.MakeDataSource(pkgName, modName, "getRemoteImage")},
		},
	}

	// Everything else follows the standard rule docker_foo_bar -> docker:index/fooBar:FooBar
	// (data sources: docker:index/getFooBar:getFooBar), which is what the SDK uses for Network,
	// Volume, Secret, Service, Plugin, Tag, RegistryImage, BuildxBuilder, getNetwork,
	// getRegistryImage, getPlugin, getLogs and getRegistryImageManifests.
	info.MustComputeTokens(tokens.SingleModule("docker_", modName, tokens.MakeStandard(pkgName)))

	// The SDK marks `name` of Container/Network/Volume/... optional: when omitted the engine
	// proposes "<urn name>-<random>" (max 255 chars).
	info.SetAutonaming(255, "-")
	return info
}
