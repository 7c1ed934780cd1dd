// Package appinfrashim exposes the SDKv2 provider constructor that kreuzwerker keeps in
// internal/provider (terraform-provider-docker main.go calls provider.New(version)()).
package appinfrashim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewSDKv2Provider builds the upstream SDKv2 provider, which carries every resource and data
// source that @pulumi/docker 5.2.0 exposes. The plugin-framework half of upstream's mux (compose,
// docker_containers, docker_registry_image_tags) is not bridged: the 5.2.0 SDK has no tokens for it.
func NewSDKv2Provider(version string) *schema.Provider {
	return provider.New(version)()
}
