// REPLAY provider: app-infra's own re-implementation of pulumi-command v1.2.1's remote:Command for
// the lab, NOT the real pulumi-resource-command. See README.md.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"app-infra/tools/engine/provider-command/remote"
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

type server struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu                sync.Mutex
	host              *provider.HostClient
	supportsOldInputs bool

	// canceled ends when the engine calls Cancel; every Create/Update/Delete context ends with it.
	canceled context.Context
	cancel   context.CancelFunc
}

func newServer(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
	canceled, cancel := context.WithCancel(context.Background())
	return &server{host: host, canceled: canceled, cancel: cancel}, nil
}

// requestContext replays pulumi-go-provider's cancel middleware (infer/provider.go:177,
// middleware/cancel/cancel.go:44-110): a custom timeout (seconds, 0 = none) bounds the call, and
// Cancel ends every call in flight. As in the original, only the dial retry loop watches the
// context; a command already running is not interrupted.
func (s *server) requestContext(ctx context.Context, timeout float64) (context.Context, context.CancelFunc) {
	cancelTimeout := func() {}
	if timeout != 0 {
		ctx, cancelTimeout = context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.canceled, cancel)
	return ctx, func() { stop(); cancel(); cancelTimeout() }
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	return hostLogger{ctx: ctx, host: s.host, urn: resource.URN(urn)}
}

// Unmarshal/marshal options as pulumi-go-provider's getMap/asStruct (provider.go:648-669).
func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		KeepUnknowns: true, SkipNulls: true, KeepResources: true, KeepSecrets: true,
	})
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, plugin.MarshalOptions{
		KeepUnknowns: true, SkipNulls: true, KeepResources: true, KeepSecrets: true, KeepOutputValues: true,
	})
}

func checkType(urn string) error {
	if t := string(resource.URN(urn).Type()); t != commandToken {
		return status.Errorf(codes.InvalidArgument,
			"unknown resource type %q: this replay of pulumi-command implements only %s", t, commandToken)
	}
	return nil
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// GetSchema returns a small schema of our own, not the real one: the engine does not need the
// schema to run a Node.js program, and the description says what this binary is.
func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	b, err := json.Marshal(map[string]any{
		"name":    "command",
		"version": "1.2.1",
		"description": "REPLAY of pulumi-command v1.2.1 (remote:Command only), written for app-infra's " +
			"lab; not the real provider.",
		"resources": map[string]any{commandToken: map[string]any{
			"requiredInputs": []string{"connection"},
			"required":       []string{"connection", "stdout", "stderr"},
		}},
	})
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: string(b)}, nil
}

func (s *server) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	host, err := provider.NewHostClient(req.GetAddress())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.host = host
	s.mu.Unlock()
	return &emptypb.Empty{}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

// CheckConfig: the command provider has no configuration; pulumi-go-provider passes the inputs
// through and adds its version key (provider.go:713-747).
func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	news[frameworkKey] = resource.NewStringProperty(frameworkVersion)
	inputs, err := marshal(news)
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

// Configure answers as pulumi-go-provider does (provider.go:777-800).
func (s *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	s.mu.Lock()
	s.supportsOldInputs = req.GetSendsOldInputs() && req.GetSendsOldInputsToDelete()
	s.mu.Unlock()
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true,
	}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures, err := remote.Check(news)
	if err != nil {
		return nil, err
	}
	inputs, err := marshal(checked)
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
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	supportsOld := s.supportsOldInputs
	s.mu.Unlock()
	d := remote.Diff(remote.DiffRequest{
		State: olds, News: news, OldInputs: oldInputs,
		IgnoreChanges: req.GetIgnoreChanges(), SupportsOldInputs: supportsOld,
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
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	props, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, done := s.requestContext(ctx, req.GetTimeout())
	defer done()
	urn := resource.URN(req.GetUrn())
	id, out, err := remote.Create(ctx, s.logger(ctx, req.GetUrn()), urn.Name(), props, req.GetPreview())
	if err != nil {
		return nil, err
	}
	st, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: st}, nil
}

// Read keeps what the engine has: remote:Command has no Read of its own, and infer's default
// returns the given ID, state and inputs unchanged (infer/resource.go:1355-1366).
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, done := s.requestContext(ctx, req.GetTimeout())
	defer done()
	out, err := remote.Update(ctx, s.logger(ctx, req.GetUrn()), olds, news, req.GetIgnoreChanges(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	st, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: st}, nil
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	props, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, done := s.requestContext(ctx, req.GetTimeout())
	defer done()
	if err := remote.Delete(ctx, s.logger(ctx, req.GetUrn()), props); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
