package main

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The command line must match what @pulumi/pulumi 3.270.0's cmd/run parses: flags first
// (minimist stopEarly), then the entry point, then the program's own arguments.
func TestRunFlags(t *testing.T) {
	got := runFlags(programRun{
		req: &pulumirpc.RunRequest{
			MonitorAddress: "127.0.0.1:1", Project: "p", Stack: "dev", Organization: "organization",
			DryRun: true, Parallel: 8, Args: []string{"extra"},
		},
		info:   &pulumirpc.ProgramInfo{RootDirectory: "/r", ProgramDirectory: "/r/prog", EntryPoint: "."},
		engine: "127.0.0.1:2",
	})
	want := []string{
		"--monitor=127.0.0.1:1", "--engine=127.0.0.1:2", "--organization=organization", "--project=p",
		"--root-directory=/r", "--stack=dev", "--pwd=/r/prog", "--dry-run", "--parallel=8", ".", "extra",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runFlags:\n got %q\nwant %q", got, want)
	}
}

func TestParseOptions(t *testing.T) {
	opts, err := parseOptions(mustStruct(t, map[string]any{"typescript": false, "nodeargs": "--a  --b"}))
	if err != nil {
		t.Fatal(err)
	}
	if opts.typescript || !reflect.DeepEqual(opts.nodeargs, []string{"--a", "--b"}) {
		t.Fatalf("unexpected options %+v", opts)
	}
	if opts, _ := parseOptions(nil); !opts.typescript {
		t.Fatal("typescript must default to true, as in Pulumi's own host")
	}
	_, err = parseOptions(mustStruct(t, map[string]any{"bogus": 1}))
	if err == nil || !strings.Contains(err.Error(), "runtime option bogus: not supported") {
		t.Fatalf("unknown option: got %v", err)
	}
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
