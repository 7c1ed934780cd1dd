// Package hcloudinfo describes, once, how the Terraform hcloud provider is bridged into Pulumi.
// Both binaries use it: pulumi-tfgen-hcloud (build time: writes schema.json and
// bridge-metadata.json) and pulumi-resource-hcloud (run time: embeds those two files).
//
// The Terraform provider is github.com/hetznercloud/terraform-provider-hcloud v1.59.0 — the newest
// version the module proxy here serves. The npm SDK we lock (@pulumi/hcloud 1.41.0) was generated
// from v1.66.1; see README.md next to this package for what that difference means.
package hcloudinfo

import (
	"context"

	tfhcloud "github.com/hetznercloud/terraform-provider-hcloud/hcloud"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
)

// PluginVersion is the version the plugin reports. It is the version of the npm SDK we lock,
// because @pulumi/hcloud 1.41.0's package.json asks the engine for resource plugin
// "hcloud" 1.41.0; the Terraform code inside is v1.59.0 (TFProviderVersion).
const PluginVersion = "1.41.0"

// TFProviderVersion is the hetznercloud/terraform-provider-hcloud module version in go.mod.
const TFProviderVersion = "1.59.0"

// Info returns the bridge description. metadata is the bridge-metadata.json produced by tfgen
// (nil or empty at tfgen time; the embedded file at run time — the muxer's dispatch table,
// which tells which Terraform half serves each resource, lives in it).
func Info(metadata []byte) tfbridge.ProviderInfo {
	// v1.59.0 serves most resources from an SDKv2 provider and a growing set (server_types,
	// ssh_keys data sources, zones, storage boxes, ...) from a plugin-framework provider, and
	// muxes the two (terraform-provider-hcloud v1.59.0 hcloud/mux.go:12). The bridge muxes the
	// same two halves itself.
	p := pfbridge.MuxShimWithPF(context.Background(),
		shimv2.NewProvider(tfhcloud.Provider()),
		tfhcloud.NewPluginProvider())

	info := tfbridge.ProviderInfo{
		P:            p,
		Name:         "hcloud",
		Version:      PluginVersion,
		Description:  "Hetzner Cloud resources, bridged from terraform-provider-hcloud v" + TFProviderVersion + " (app-infra build).",
		Keywords:     []string{"pulumi", "hcloud"},
		License:      "MPL-2.0",
		GitHubOrg:    "hetznercloud",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources:    map[string]*tfbridge.ResourceInfo{},
		DataSources:  map[string]*tfbridge.DataSourceInfo{},
	}

	// Plugin-framework resources may declare a numeric "id"; Pulumi ids are strings, so say so
	// explicitly or tfgen refuses the resource.
	p.ResourcesMap().Range(func(tfName string, r shim.Resource) bool {
		id, ok := r.Schema().GetOk("id")
		if !ok || id.Type() == shim.TypeString {
			return true
		}
		ri := info.Resources[tfName]
		if ri == nil {
			ri = &tfbridge.ResourceInfo{}
			info.Resources[tfName] = ri
		}
		if ri.Fields == nil {
			ri.Fields = map[string]*tfbridge.SchemaInfo{}
		}
		ri.Fields["id"] = &tfbridge.SchemaInfo{Type: "string"}
		return true
	})

	// Every hcloud_x lands in module "index" as hcloud:index/x:X (data sources: getX), which is
	// what the @pulumi/hcloud SDK sends, e.g. hcloud:index/server:Server and
	// hcloud:index/getServerTypes:getServerTypes.
	info.MustComputeTokens(tokens.SingleModule("hcloud_", "index", tokens.MakeStandard("hcloud")))

	// A missing `name` gets "<logical name>-<random suffix>", at most 255 characters.
	info.SetAutonaming(255, "-")
	return info
}
