package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// host implements pulumirpc.LanguageRuntimeServer. Methods not defined here answer
// codes.Unimplemented through the embedded type, which the engine treats as "not supported".
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	tracing string

	mu            sync.Mutex
	engineAddress string
	// cancelRuns stops every running program; Cancel calls it. Replaced after each Cancel.
	runsCtx    context.Context
	cancelRuns context.CancelFunc
}

func newHost(engineAddress, tracing string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{engineAddress: engineAddress, tracing: tracing, runsCtx: ctx, cancelRuns: cancel}
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) runContext() context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runsCtx
}

// Handshake is used when the engine attaches to an already-running host (PULUMI_DEBUG_LANGUAGES);
// a host the engine starts itself gets the address on its command line instead.
func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetRequiredPlugins and GetRequiredPackages report no plugins: providers are ambient binaries on
// PATH here, and the engine must never try to download one (there is no network to do it with).
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: hostVersion}, nil
}

// InstallDependencies has nothing to do: the project installs node_modules with `npm ci` itself.
// Returning without sending anything ends the stream successfully.
func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return nil
}

// RuntimeOptionsPrompts is asked by `pulumi new`; we have no options worth prompting for.
func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) Template(context.Context, *pulumirpc.TemplateRequest) (*pulumirpc.TemplateResponse, error) {
	return &pulumirpc.TemplateResponse{}, nil
}

// About reports the node binary and its version (`pulumi about`, and the update metadata of `up`).
func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on PATH: %w", err)
	}
	resp := &pulumirpc.AboutResponse{Executable: node, Metadata: map[string]string{"packagemanager": "npm"}}
	if out, err := exec.CommandContext(ctx, node, "--version").Output(); err == nil {
		resp.Version = strings.TrimSpace(string(out))
	}
	return resp, nil
}

// GetProgramDependencies lists the program's direct dependencies (package.json) with the versions
// installed under node_modules. Transitive dependencies are not walked.
func (h *host) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	var manifest struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &manifest); err != nil {
		return nil, err
	}
	var names []string
	for _, deps := range []map[string]string{manifest.Dependencies, manifest.DevDependencies} {
		for name := range deps {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, name := range names {
		var installed struct {
			Version string `json:"version"`
		}
		if err := readJSON(filepath.Join(dir, "node_modules", name, "package.json"), &installed); err != nil {
			continue // declared but not installed: not a dependency the program can load
		}
		resp.Dependencies = append(resp.Dependencies,
			&pulumirpc.DependencyInfo{Name: name, Version: installed.Version})
	}
	return resp, nil
}

// Cancel stops every running program (SIGINT first, see runProgram) and arms a fresh context
// for later runs.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cancelRuns()
	h.runsCtx, h.cancelRuns = context.WithCancel(context.Background())
	return &emptypb.Empty{}, nil
}

// Run executes the program once (preview, update, refresh/destroy with --run-program).
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	engine := h.engine()
	if engine == "" {
		return nil, errors.New("no engine address: the engine must pass it on the command line or call Handshake")
	}
	info := req.GetInfo()
	if info == nil {
		// Engines since about v3.130 always send ProgramInfo; we do not support older ones.
		return nil, errors.New("RunRequest without program info; this host needs a newer Pulumi engine")
	}
	opts, err := parseOptions(info.GetOptions())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return runProgram(ctx, h.runContext(), programRun{
		req:     req,
		info:    info,
		opts:    opts,
		engine:  engine,
		tracing: h.tracing,
	}), nil
}

// nodeOptions are the `runtime.options` of Pulumi.yaml that this host understands.
type nodeOptions struct {
	typescript bool     // load ts-node (PULUMI_NODEJS_TYPESCRIPT); Pulumi's default is true
	tsconfig   string   // PULUMI_NODEJS_TSCONFIG_PATH
	nodeargs   []string // extra node flags, split on white space (no quoting)
}

// parseOptions reads the options we support and rejects the ones we would silently get wrong.
func parseOptions(raw *structpb.Struct) (nodeOptions, error) {
	opts := nodeOptions{typescript: true}
	for key, value := range raw.AsMap() {
		switch key {
		case "typescript":
			b, ok := value.(bool)
			if !ok {
				return opts, fmt.Errorf("runtime option typescript: should be a boolean (got %v)", value)
			}
			opts.typescript = b
		case "tsconfig":
			s, ok := value.(string)
			if !ok {
				return opts, fmt.Errorf("runtime option tsconfig: should be a string (got %v)", value)
			}
			opts.tsconfig = s
		case "nodeargs":
			s, ok := value.(string)
			if !ok {
				return opts, fmt.Errorf("runtime option nodeargs: should be a string (got %v)", value)
			}
			opts.nodeargs = strings.Fields(s)
		case "packagemanager":
			// Only matters for InstallDependencies, which does nothing here.
		default:
			return opts, fmt.Errorf("runtime option %s: not supported by app-infra's pulumi-language-nodejs", key)
		}
	}
	return opts, nil
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
