// Command pulumi-language-nodejs is app-infra's OWN minimal Pulumi language host for Node.js.
//
// Why it exists: the Pulumi CLI runs a Node.js program through a "language plugin" named
// pulumi-language-nodejs. Pulumi's own host lives in the Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go module proxy
// available here refuses (403 "not available") at every version, so we cannot build it. This is a
// small replacement written for this repository against the LanguageRuntime gRPC service of
// github.com/pulumi/pulumi/sdk/v3 v3.274.1 (proto/go/language_grpc.pb.go). It was written after
// reading how the real host behaves, not copied from it.
//
// What it does:
//   - Prints its gRPC port as the first line on stdout, which is how the engine finds any plugin
//     (sdk/v3 go/common/resource/plugin/plugin.go, newPlugin). The engine's address arrives as the
//     last positional argument (langruntime_plugin.go, buildArgsForNewPlugin) or via Handshake.
//   - Run: resolves @pulumi/pulumi/cmd/run from the program's own node_modules and starts
//     `node <run> --monitor … --engine … <entry point>` with the flags and the PULUMI_CONFIG /
//     PULUMI_CONFIG_SECRET_KEYS / PULUMI_NODEJS_TYPESCRIPT environment that @pulumi/pulumi 3.270.0
//     reads (node_modules/@pulumi/pulumi/cmd/run/index.js, run.js; runtime/config.js).
//   - GetRequiredPackages/GetRequiredPlugins return nothing: in this project every resource
//     provider is an "ambient" plugin binary on PATH, so the engine must not try to download any.
//   - InstallDependencies does nothing (npm ci is run by the project, not by pulumi).
//   - About, GetProgramDependencies, GetPluginInfo, RuntimeOptionsPrompts, Template, Handshake and
//     Cancel answer what `pulumi about`, `up` (update metadata) and Ctrl-C need.
//
// What it omits (answers Unimplemented or ignores): RunPlugin (Node.js-authored plugins and
// policy packs), GenerateProject/GenerateProgram/GeneratePackage (codegen, `pulumi convert`),
// Pack and Link (`pulumi package add`), the bun runtime, package managers other than the
// node_modules already present, attaching a debugger, the monitor proxy and the "sync invoke"
// pipes of the real host (@pulumi/pulumi 3.x talks to the monitor directly), and quoting in the
// `nodeargs` option (it is split on white space).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// hostVersion is what GetPluginInfo reports. It is our own version, not Pulumi's, so that
// `pulumi about` does not pass this host off as the upstream one.
const hostVersion = "0.1.0"

func main() {
	// The engine may prepend --logtostderr, -v=N and --tracing (sdk/v3 plugin.go,
	// buildPluginArguments). The first two are registered by github.com/golang/glog, which the SDK
	// packages we import pull in, so only --tracing is ours to define.
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the program")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println(hostVersion)
		return
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[len(args)-1]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Closing this channel stops the gRPC server: on a signal, or when the engine goes away
	// (so that an orphaned host does not linger after a crashed `pulumi`).
	serverCancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(serverCancel)
	}()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 30*time.Second, stop); err != nil {
			fatalf("could not start the engine health check: %v", err)
		}
	}

	host := newHost(engineAddress, *tracing)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: serverCancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fatalf("could not start the language host gRPC server: %v", err)
	}

	// The first stdout line must be the port: the engine reads it byte by byte.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatalf("language host gRPC server stopped: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: "+format+"\n", args...)
	os.Exit(1)
}
