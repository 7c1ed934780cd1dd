// Package replayplugin is the gRPC plumbing that app-infra's REPLAY providers (provider-command,
// provider-tls) share: the plugin's main, and a Base server that answers the calls that do not
// depend on the resource (plugin info, schema, Attach, Configure, Cancel) and reads and writes
// property structs with the options of the provider it replays. Each provider keeps its own
// resource logic and the calls that differ (CheckConfig, DiffConfig, Check, Diff, Create, …).
//
// It is a library, not an engine component (there is no build.sh here); tools/engine/build.sh
// hashes it into every component whose go.mod replaces a module with this directory.
package replayplugin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Main runs the plugin `pulumi-resource-<name>`: `--version` prints version, anything else is
// the SDK's provider main (it serves newServer over gRPC and tells the engine the port).
func Main(name, version string, newServer func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error)) {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(version)
		return
	}
	if err := provider.Main(name, newServer); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %s", err.Error())
		os.Exit(1)
	}
}

// Info describes one replay provider.
type Info struct {
	// Version is the plugin version, e.g. "1.2.1+replay.app-infra": the npm SDK asks for 1.2.1,
	// and semver ignores the "+replay…" build metadata when comparing.
	Version string
	// Replays names the real provider in error messages, e.g. "pulumi-command".
	Replays string
	// Token is the one resource type the replay implements.
	Token string
	// Schema is what GetSchema returns, JSON-encoded: a small schema of our own, not the real one
	// (the engine does not need the schema to run a Node.js program).
	Schema map[string]any
	// Configure is the answer to every Configure call.
	Configure *pulumirpc.ConfigureResponse
	// Unmarshal are the options requests are read with.
	Unmarshal plugin.MarshalOptions
	// Marshal gives the options responses are written with, from the engine's Configure request
	// (nil before Configure).
	Marshal func(configured *pulumirpc.ConfigureRequest) plugin.MarshalOptions
}

// Base answers the resource-independent calls of pulumirpc.ResourceProviderServer; a provider's
// server embeds a *Base and adds its own methods.
type Base struct {
	pulumirpc.UnimplementedResourceProviderServer

	info Info

	mu         sync.Mutex
	host       *provider.HostClient
	configured *pulumirpc.ConfigureRequest

	// canceled ends when the engine calls Cancel; see RequestContext.
	canceled context.Context
	cancel   context.CancelFunc
}

// NewBase returns a Base for info that talks to the engine through host (nil until Attach when
// the plugin was started to be attached).
func NewBase(host *provider.HostClient, info Info) *Base {
	canceled, cancel := context.WithCancel(context.Background())
	return &Base{info: info, host: host, canceled: canceled, cancel: cancel}
}

// Host is the engine's host client, or nil.
func (b *Base) Host() *provider.HostClient {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.host
}

// Configured is the engine's last Configure request, or nil before the first.
func (b *Base) Configured() *pulumirpc.ConfigureRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.configured
}

// RequestContext bounds one call: a custom timeout (seconds, 0 = none) and Cancel both end the
// returned context. Call the returned function when the call is done.
func (b *Base) RequestContext(ctx context.Context, timeout float64) (context.Context, context.CancelFunc) {
	cancelTimeout := func() {}
	if timeout != 0 {
		ctx, cancelTimeout = context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(b.canceled, cancel)
	return ctx, func() { stop(); cancel(); cancelTimeout() }
}

// CheckType refuses any resource type but the replayed one, naming the replay.
func (b *Base) CheckType(urn string) error {
	if t := string(resource.URN(urn).Type()); t != b.info.Token {
		return status.Errorf(codes.InvalidArgument,
			"unknown resource type %q: this replay of %s implements only %s", t, b.info.Replays, b.info.Token)
	}
	return nil
}

// Unmarshal reads a request's property struct.
func (b *Base) Unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, b.info.Unmarshal)
}

// Marshal writes a response's property struct.
func (b *Base) Marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, b.info.Marshal(b.Configured()))
}

// Properties checks a resource request's type (CheckType), then reads the given structs in order.
func (b *Base) Properties(urn string, structs ...*structpb.Struct) ([]resource.PropertyMap, error) {
	if err := b.CheckType(urn); err != nil {
		return nil, err
	}
	maps := make([]resource.PropertyMap, len(structs))
	for i, s := range structs {
		m, err := b.Unmarshal(s)
		if err != nil {
			return nil, err
		}
		maps[i] = m
	}
	return maps, nil
}

// Created answers a Create with the new resource's ID (empty in a preview) and state, or with
// err; it takes a create function's results as they come: s.Created(create(…)).
func (b *Base) Created(id string, state resource.PropertyMap, err error) (*pulumirpc.CreateResponse, error) {
	if err != nil {
		return nil, err
	}
	st, err := b.Marshal(state)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: st}, nil
}

// GetPluginInfo returns Info.Version.
func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: b.info.Version}, nil
}

// GetSchema returns Info.Schema.
func (b *Base) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	s, err := json.Marshal(b.info.Schema)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: string(s)}, nil
}

// Attach connects to the engine at the given address (a plugin started to be attached).
func (b *Base) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	host, err := provider.NewHostClient(req.GetAddress())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.host = host
	b.mu.Unlock()
	return &emptypb.Empty{}, nil
}

// Configure keeps the request (see Configured) and answers Info.Configure.
func (b *Base) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	b.mu.Lock()
	b.configured = req
	b.mu.Unlock()
	return b.info.Configure, nil
}

// Cancel ends every RequestContext, those in flight and those to come.
func (b *Base) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	b.cancel()
	return &emptypb.Empty{}, nil
}

// Read keeps what the engine has: it returns the ID, state and inputs it was given. Neither
// replayed resource reads anything back (see each provider's README).
func (b *Base) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := b.CheckType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
