// REPLAY provider: app-infra's own re-implementation of pulumi-tls v5.6.1's PrivateKey for the
// lab, NOT the real pulumi-resource-tls. See README.md.
package main

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"app-infra/tools/engine/provider-tls/privatekey"
	"app-infra/tools/engine/replayplugin"
)

// Version is the plugin version @pulumi/tls 5.6.1 asks for; "+replay…" build metadata marks this
// binary as our replay and is ignored by semver comparison.
const Version = "5.6.1+replay.app-infra"

// info: the plugin's identity and wire options, as the PF bridge has them.
var info = replayplugin.Info{
	Version: Version,
	Replays: "pulumi-tls",
	Token:   privatekey.Token,
	Schema: map[string]any{
		"name":    "tls",
		"version": "5.6.1",
		"description": "REPLAY of pulumi-tls v5.6.1 (PrivateKey only), written for app-infra's lab; " +
			"not the real provider.",
	},
	// Configure answers as the PF bridge does (provider_server.go:327-343): preview and resources
	// yes, secrets NO — the engine then applies its own secret heuristics to outputs.
	Configure: &pulumirpc.ConfigureResponse{
		SupportsPreview: true, AcceptResources: true, AcceptSecrets: false,
		SupportsAutonamingConfiguration: true,
	},
	// The PF bridge reads requests WITHOUT secrets (it tells the engine it does not accept them)
	// and writes responses keeping secrets only if the engine said it accepts them
	// (bridge pkg/pf/internal/plugin/provider_server.go:52-71).
	Unmarshal: plugin.MarshalOptions{KeepUnknowns: true, KeepResources: true},
	Marshal: func(configured *pulumirpc.ConfigureRequest) plugin.MarshalOptions {
		return plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: configured.GetAcceptSecrets(), KeepResources: true}
	},
}

// server is the TLS provider. The shared Base answers GetPluginInfo, GetSchema, Attach, Configure
// and Cancel (nothing here runs long enough to cancel).
type server struct {
	*replayplugin.Base
}

func newServer(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
	return &server{Base: replayplugin.NewBase(host, info)}, nil
}

// CheckConfig: the TLS provider has a `proxy` block only; we pass the configuration through
// (the recorded 5.0.2 CheckConfig answers {} to {}).
func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures := privatekey.Check(resource.URN(req.GetUrn()).Name(), in[0])
	inputs, err := s.Marshal(checked)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: inputs}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Reason: f.Reason})
	}
	return resp, nil
}

var detailedKinds = map[string]pulumirpc.PropertyDiff_Kind{
	"ADD_REPLACE":    pulumirpc.PropertyDiff_ADD_REPLACE,
	"UPDATE_REPLACE": pulumirpc.PropertyDiff_UPDATE_REPLACE,
	"DELETE_REPLACE": pulumirpc.PropertyDiff_DELETE_REPLACE,
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetOlds(), req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, news := in[0], in[1]
	// ignoreChanges: the bridge takes the prior state's value for each ignored path
	// (propertyvalue.ApplyIgnoreChanges); our inputs are all top-level.
	for _, k := range req.GetIgnoreChanges() {
		if v, ok := olds[resource.PropertyKey(k)]; ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	d := privatekey.Diff(olds, news)
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		Replaces:        d.Replaces,
		Diffs:           d.Changed,
		HasDetailedDiff: true,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
	}
	if len(d.Changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	for k, kind := range d.Detailed {
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: detailedKinds[kind], InputDiff: true}
	}
	return resp, nil
}

func (s *server) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in, err := s.Properties(req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return s.Created("", privatekey.PreviewState(in[0]), nil)
	}
	return s.Created(privatekey.Create(in[0]))
}

// Invoke serves getPublicKey, the one TLS function our program calls.
func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != privatekey.GetPublicKeyToken {
		return nil, status.Errorf(codes.InvalidArgument,
			"unknown function %q: this replay of pulumi-tls implements only %s", req.GetTok(), privatekey.GetPublicKeyToken)
	}
	args, err := s.Unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	out, err := privatekey.GetPublicKey(args)
	if err != nil {
		return nil, err
	}
	ret, err := s.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// Read: TF's Read is a no-op (resource_private_key.go:265-268), so a refresh returns the state
// and inputs it was given, as Base.Read does. Import (no state) is not replayed.
func (s *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := s.CheckType(req.GetUrn()); err != nil {
		return nil, err
	}
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, status.Error(codes.Unimplemented, "import of tls PrivateKey is not replayed")
	}
	return s.Base.Read(ctx, req)
}

// Update is never reached (every input forces a replacement); TF's Update is a no-op
// (resource_private_key.go:270-272), so the state stays.
func (s *server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := s.CheckType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetOlds()}, nil
}

// Delete: TF's Delete only drops the state (resource_private_key.go:274-277).
func (s *server) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := s.CheckType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
