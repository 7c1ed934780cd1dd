// REPLAY provider: app-infra's own re-implementation of pulumi-command v1.2.1's remote:Command for
// the lab, NOT the real pulumi-resource-command. See README.md.
package main

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"

	"app-infra/tools/engine/provider-command/remote"
	"app-infra/tools/engine/replayplugin"
)

const (
	// Version is the plugin version @pulumi/command 1.2.1 asks for. The "+replay" build metadata
	// marks this binary as our replay wherever the engine shows the version; semver ignores build
	// metadata when comparing, so it still is 1.2.1 to the engine.
	Version = "1.2.1+replay.app-infra"

	commandToken = "command:remote:Command"

	// pulumi-go-provider stores its own version in the provider's config inputs
	// (provider.go:735-736, version.go:25-27 at v1.3.0; pulumi-command v1.2.1 pins go-provider v1.3.0).
	frameworkKey     = "__pulumi-go-provider-version"
	frameworkVersion = "1.3.0"
)

// info: the plugin's identity and wire options. Configure answers as pulumi-go-provider does
// (provider.go:777-800), and requests and responses are read and written with its getMap/asStruct
// options (provider.go:648-669).
var info = replayplugin.Info{
	Version: Version,
	Replays: "pulumi-command",
	Token:   commandToken,
	Schema: map[string]any{
		"name":    "command",
		"version": "1.2.1",
		"description": "REPLAY of pulumi-command v1.2.1 (remote:Command only), written for app-infra's " +
			"lab; not the real provider.",
		"resources": map[string]any{commandToken: map[string]any{
			"requiredInputs": []string{"connection"},
			"required":       []string{"connection", "stdout", "stderr"},
		}},
	},
	Configure: &pulumirpc.ConfigureResponse{
		AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true,
	},
	Unmarshal: plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true, KeepResources: true, KeepSecrets: true},
	Marshal: func(*pulumirpc.ConfigureRequest) plugin.MarshalOptions {
		return plugin.MarshalOptions{
			KeepUnknowns: true, SkipNulls: true, KeepResources: true, KeepSecrets: true, KeepOutputValues: true,
		}
	},
}

// server is the command provider. The shared Base answers GetPluginInfo, GetSchema, Attach,
// Configure, Cancel and Read (remote:Command has no Read of its own, and infer's default returns
// the given ID, state and inputs unchanged: infer/resource.go:1355-1366).
type server struct {
	*replayplugin.Base
}

func newServer(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
	return &server{Base: replayplugin.NewBase(host, info)}, nil
}

// Create, Update and Delete run under Base.RequestContext, which replays pulumi-go-provider's
// cancel middleware (infer/provider.go:177, middleware/cancel/cancel.go:44-110): a custom timeout
// bounds the call, and Cancel ends every call in flight. As in the original, only the dial retry
// loop watches the context; a command already running is not interrupted.

// hostLogger sends messages to the engine for one resource.
type hostLogger struct {
	ctx  context.Context
	host *provider.HostClient
	urn  resource.URN
}

func severity(s string) diag.Severity {
	switch s {
	case "error":
		return diag.Error
	case "warning":
		return diag.Warning
	case "info":
		return diag.Info
	default:
		return diag.Debug
	}
}

func (l hostLogger) Log(sev, msg string) {
	if l.host != nil {
		_ = l.host.Log(l.ctx, severity(sev), l.urn, msg)
	}
}

func (l hostLogger) LogStatus(sev, msg string) {
	if l.host != nil {
		_ = l.host.LogStatus(l.ctx, severity(sev), l.urn, msg)
	}
}

func (s *server) logger(ctx context.Context, urn string) remote.Logger {
	return hostLogger{ctx: ctx, host: s.Host(), urn: resource.URN(urn)}
}

// CheckConfig: the command provider has no configuration; pulumi-go-provider passes the inputs
// through and adds its version key (provider.go:713-747).
func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := s.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	news[frameworkKey] = resource.NewStringProperty(frameworkVersion)
	inputs, err := s.Marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs}, nil
}

// DiffConfig: with no configuration fields there is nothing that can differ; the engine's
// "version" and the framework's "__" keys are ignored as in infer's diff.
func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures, err := remote.Check(in[0])
	if err != nil {
		return nil, err
	}
	inputs, err := s.Marshal(checked)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: inputs}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.Property, Reason: f.Reason})
	}
	return resp, nil
}

var diffKinds = map[plugin.DiffKind]pulumirpc.PropertyDiff_Kind{
	plugin.DiffAdd:           pulumirpc.PropertyDiff_ADD,
	plugin.DiffAddReplace:    pulumirpc.PropertyDiff_ADD_REPLACE,
	plugin.DiffDelete:        pulumirpc.PropertyDiff_DELETE,
	plugin.DiffDeleteReplace: pulumirpc.PropertyDiff_DELETE_REPLACE,
	plugin.DiffUpdate:        pulumirpc.PropertyDiff_UPDATE,
	plugin.DiffUpdateReplace: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetOlds(), req.GetNews(), req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	// Old inputs are used only if Configure said the engine sends them to Diff and to Delete, as
	// pulumi-go-provider records it (provider.go:777-800).
	configured := s.Configured()
	d := remote.Diff(remote.DiffRequest{
		State: in[0], News: in[1], OldInputs: in[2],
		IgnoreChanges:     req.GetIgnoreChanges(),
		SupportsOldInputs: configured.GetSendsOldInputs() && configured.GetSendsOldInputsToDelete(),
	})
	resp := &pulumirpc.DiffResponse{
		Changes:             pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff:     true,
		DetailedDiff:        map[string]*pulumirpc.PropertyDiff{},
		Replaces:            d.Replaces,
		Diffs:               d.Diffs,
		DeleteBeforeReplace: d.DeleteBeforeReplace,
	}
	if d.HasChanges {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	for k, v := range d.DetailedDiff {
		kind, ok := diffKinds[v.Kind]
		if !ok {
			return nil, fmt.Errorf("unexpected diff kind %v", v.Kind)
		}
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: v.InputDiff}
	}
	return resp, nil
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, done := s.RequestContext(ctx, req.GetTimeout())
	defer done()
	name := resource.URN(req.GetUrn()).Name()
	return s.Created(remote.Create(ctx, s.logger(ctx, req.GetUrn()), name, in[0], req.GetPreview()))
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetOlds(), req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, done := s.RequestContext(ctx, req.GetTimeout())
	defer done()
	out, err := remote.Update(ctx, s.logger(ctx, req.GetUrn()), in[0], in[1], req.GetIgnoreChanges(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	st, err := s.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: st}, nil
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	in, err := s.Properties(req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, done := s.RequestContext(ctx, req.GetTimeout())
	defer done()
	if err := remote.Delete(ctx, s.logger(ctx, req.GetUrn()), in[0]); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
