package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitAfterLoggedError is the exit code @pulumi/pulumi's cmd/run uses when it has already
// reported the program's error to the engine (node_modules/@pulumi/pulumi/cmd/run/index.js,
// nodeJSProcessExitedAfterLoggingUserActionableMessage = 32). We then answer Bail, so that the
// engine fails the update without printing a second, less useful message.
const exitAfterLoggedError = 32

// stderrTailBytes bounds how much of node's stderr we quote back when it fails in some other way
// (for example ts-node not loadable), so the error reaches `pulumi up`'s summary.
const stderrTailBytes = 4096

type programRun struct {
	req     *pulumirpc.RunRequest
	info    *pulumirpc.ProgramInfo
	opts    nodeOptions
	engine  string
	tracing string
}

// runProgram starts node on @pulumi/pulumi's cmd/run and waits for it. Failures of the program
// are reported in RunResponse.Error (the engine shows them); only transport problems are gRPC errors.
func runProgram(reqCtx, cancelCtx context.Context, r programRun) *pulumirpc.RunResponse {
	fail := func(format string, args ...any) *pulumirpc.RunResponse {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(format, args...)}
	}
	programDir := r.info.GetProgramDirectory()

	node, err := exec.LookPath("node")
	if err != nil {
		return fail("could not find node on PATH: %v", err)
	}
	runScript, err := resolveRunScript(reqCtx, node, programDir)
	if err != nil {
		return fail("%v", err)
	}

	// The engine sends config keys as "<namespace>:<name>"; @pulumi/pulumi 3.270.0 reads exactly
	// that form (runtime/config.js, parseConfig/cleanKey), so they are passed on unchanged.
	configJSON, err := json.Marshal(nonNilMap(r.req.GetConfig()))
	if err != nil {
		return fail("could not encode config: %v", err)
	}
	secretKeysJSON, err := json.Marshal(nonNilSlice(r.req.GetConfigSecretKeys()))
	if err != nil {
		return fail("could not encode secret config keys: %v", err)
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	if r.opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if r.opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+r.opts.tsconfig)
	}

	args := append(append([]string{}, r.opts.nodeargs...), runScript)
	args = append(args, runFlags(r)...)

	runCtx, stop := context.WithCancel(reqCtx)
	defer stop()
	stopOnCancel := context.AfterFunc(cancelCtx, stop)
	defer stopOnCancel()

	cmd := exec.CommandContext(runCtx, node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	// Ask politely first: @pulumi/pulumi flushes its pending RPCs on SIGINT.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	// node may switch its stdio file descriptors to non-blocking mode; wrapping our own stdout and
	// stderr in plain writers makes exec copy through pipes instead of sharing the descriptors.
	// Both streams end up in the engine's diagnostics (sdk/v3 plugin.go reads a plugin's output).
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	tail := &tailBuffer{limit: stderrTailBytes}
	cmd.Stderr = io.MultiWriter(struct{ io.Writer }{os.Stderr}, tail)

	err = cmd.Run()
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fail("could not run node %s: %v", runScript, err)
	}
	if cancelCtx.Err() != nil {
		return fail("program cancelled")
	}
	if exitErr.ExitCode() == exitAfterLoggedError {
		return &pulumirpc.RunResponse{Bail: true}
	}
	msg := fmt.Sprintf("program exited with %s", exitErr.ProcessState.String())
	if t := strings.TrimSpace(tail.String()); t != "" {
		msg += ":\n" + t
	}
	return fail("%s", msg)
}

// runFlags builds cmd/run's command line; the flag names are those of @pulumi/pulumi 3.270.0
// (cmd/run/index.js, the minimist `string`/`boolean` lists and usage()).
func runFlags(r programRun) []string {
	var flags []string
	add := func(name, value string) {
		if value != "" {
			flags = append(flags, "--"+name+"="+value)
		}
	}
	add("monitor", r.req.GetMonitorAddress())
	add("engine", r.engine)
	add("organization", r.req.GetOrganization())
	add("project", r.req.GetProject())
	add("root-directory", r.info.GetRootDirectory())
	add("stack", r.req.GetStack())
	add("pwd", r.info.GetProgramDirectory())
	if r.req.GetDryRun() {
		flags = append(flags, "--dry-run")
	}
	if p := r.req.GetParallel(); p != 0 {
		add("parallel", strconv.Itoa(int(p)))
	}
	add("tracing", r.tracing)

	// The engine always names an entry point; "." means "the package's main / exports".
	entry := r.info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	flags = append(flags, entry)
	return append(flags, r.req.GetArgs()...)
}

// resolveRunScript finds @pulumi/pulumi/cmd/run the way the program itself would load
// @pulumi/pulumi: with node's module resolution from the program directory, so that the SDK that
// runs the program is the one in its node_modules.
func resolveRunScript(ctx context.Context, node, programDir string) (string, error) {
	const module = "@pulumi/pulumi/cmd/run"
	cmd := exec.CommandContext(ctx, node, "-e", "process.stdout.write(require.resolve('"+module+"'))")
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		detail := err.Error()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
			detail = firstLine(string(exitErr.Stderr))
		}
		return "", fmt.Errorf("could not resolve %s from %s (is @pulumi/pulumi installed there? run npm ci): %s",
			module, programDir, detail)
	}
	return strings.TrimSpace(string(out)), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "Error") {
			return strings.TrimSpace(line)
		}
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// tailBuffer keeps the last `limit` bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
