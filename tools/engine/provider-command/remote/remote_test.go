package remote

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// recLogger records what would go to the engine.
type recLogger struct {
	mu     sync.Mutex
	logs   []string
	status []string
}

func (l *recLogger) Log(sev, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, sev+": "+msg)
}

func (l *recLogger) LogStatus(sev, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status = append(l.status, sev+": "+msg)
}

func pm(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func secretConn(m map[string]any) resource.PropertyValue {
	return resource.MakeSecret(resource.NewObjectProperty(pm(m)))
}

func TestCheckFillsConnectionDefaultsAndMarksSecrets(t *testing.T) {
	news := resource.PropertyMap{
		"create":     resource.NewStringProperty("true"),
		"connection": secretConn(map[string]any{"host": "10.0.0.1", "privateKey": "KEY"}),
	}
	out, failures, err := Check(news)
	if err != nil || len(failures) > 0 {
		t.Fatalf("Check: %v %v", err, failures)
	}
	c := out["connection"]
	if !c.IsSecret() {
		t.Fatalf("connection must be secret, got %v", c)
	}
	obj := c.SecretValue().Element.ObjectValue()
	want := map[string]any{"user": "root", "port": 22.0, "dialErrorLimit": 10.0, "perDialTimeout": 15.0, "host": "10.0.0.1"}
	for k, v := range want {
		got := obj[resource.PropertyKey(k)]
		if got.Mappable() != v {
			t.Errorf("connection.%s = %v, want %v", k, got.Mappable(), v)
		}
	}
	if !obj["privateKey"].IsSecret() {
		t.Errorf("connection.privateKey must be secret inside the secret connection")
	}
	if _, ok := obj["proxy"]; ok {
		t.Errorf("no proxy was given, none must appear")
	}
}

func TestCheckKeepsExplicitValuesAndFillsProxyDefaults(t *testing.T) {
	news := resource.PropertyMap{"connection": resource.NewObjectProperty(pm(map[string]any{
		"host": "h", "user": "deploy", "port": 2222.0, "dialErrorLimit": -1.0,
		"proxy": map[string]any{"host": "bastion", "password": "pw"},
	}))}
	out, failures, err := Check(news)
	if err != nil || len(failures) > 0 {
		t.Fatalf("Check: %v %v", err, failures)
	}
	obj := out["connection"].SecretValue().Element.ObjectValue()
	if obj["user"].StringValue() != "deploy" || obj["port"].NumberValue() != 2222 || obj["dialErrorLimit"].NumberValue() != -1 {
		t.Errorf("explicit values must stay: %v", obj)
	}
	proxy := obj["proxy"].ObjectValue()
	if proxy["user"].StringValue() != "root" || proxy["port"].NumberValue() != 22 || proxy["perDialTimeout"].NumberValue() != 15 {
		t.Errorf("proxy defaults missing: %v", proxy)
	}
	if !proxy["password"].IsSecret() {
		t.Errorf("proxy.password must be secret")
	}
}

func TestCheckUnknownHostIsNotAFailure(t *testing.T) {
	news := resource.PropertyMap{"connection": secretConn(map[string]any{})}
	news["connection"].SecretValue().Element.ObjectValue()["host"] = resource.MakeComputed(resource.NewStringProperty(""))
	out, failures, err := Check(news)
	if err != nil || len(failures) > 0 {
		t.Fatalf("an unknown host during preview must pass Check: %v %v", err, failures)
	}
	obj := out["connection"].SecretValue().Element.ObjectValue()
	if !obj["host"].IsComputed() || obj["user"].StringValue() != "root" {
		t.Errorf("host must stay unknown and defaults still apply: %v", obj)
	}
}

func TestCheckFailuresUseTheMapperMessages(t *testing.T) {
	_, failures, err := Check(resource.PropertyMap{
		"create": resource.NewStringProperty("x"),
		"bogus":  resource.NewStringProperty("y"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, f := range failures {
		got = append(got, f.Property+"|"+f.Reason)
	}
	want := []string{
		"connection|Missing required field 'connection' on 'remote.CommandInputs'",
		"bogus|Unrecognized field 'bogus' on 'remote.CommandInputs'",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	_, failures, _ = Check(resource.PropertyMap{"connection": resource.NewObjectProperty(pm(map[string]any{"port": 22.0}))})
	// A nested failure comes wrapped by the mapper, on the top-level field, as in the original.
	wantHost := "An error occurred decoding 'CommandInputs.connection': 1 failures decoding:\n\thost: Missing required field 'host' on 'remote.Connection'"
	if len(failures) != 1 || failures[0].Property != "connection" || failures[0].Reason != wantHost {
		t.Errorf("missing host: %+v", failures)
	}
}

func checked(t *testing.T, m resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	out, failures, err := Check(m)
	if err != nil || len(failures) > 0 {
		t.Fatalf("Check: %v %v", err, failures)
	}
	return out
}

func base(extra map[string]any) resource.PropertyMap {
	m := map[string]any{"connection": map[string]any{"host": "h"}}
	for k, v := range extra {
		m[k] = v
	}
	return pm(m)
}

func TestDiffTriggerElementChangeIsAnUpdateFromTheProvider(t *testing.T) {
	olds := checked(t, base(map[string]any{"create": "a", "triggers": []any{"x", 1.0}}))
	news := checked(t, base(map[string]any{"create": "a", "triggers": []any{"y", 1.0}}))
	d := Diff(DiffRequest{State: olds, News: news, OldInputs: olds, SupportsOldInputs: true})
	if !d.HasChanges || len(d.Replaces) != 0 {
		t.Fatalf("want an update without provider replace, got %+v", d)
	}
	if k := d.DetailedDiff["triggers[0]"].Kind; k != plugin.DiffUpdate {
		t.Errorf("triggers[0] kind = %v, want update (the SDK's replaceOnChanges makes the engine replace)", k)
	}
	if strings.Join(d.Diffs, ",") != "triggers" {
		t.Errorf("diffs = %v", d.Diffs)
	}
}

func TestDiffAddingTriggersIsAReplace(t *testing.T) {
	olds := checked(t, base(map[string]any{"create": "a"}))
	news := checked(t, base(map[string]any{"create": "a", "triggers": []any{"x"}}))
	d := Diff(DiffRequest{State: olds, News: news, OldInputs: olds, SupportsOldInputs: true})
	if d.DetailedDiff["triggers"].Kind != plugin.DiffAddReplace || strings.Join(d.Replaces, ",") != "triggers" {
		t.Errorf("want ADD_REPLACE on triggers, got %+v", d)
	}
}

func TestDiffCommandChangeIsAnUpdateAndSameIsNoChange(t *testing.T) {
	olds := checked(t, base(map[string]any{"create": "a"}))
	news := checked(t, base(map[string]any{"create": "b"}))
	d := Diff(DiffRequest{State: olds, News: news, OldInputs: olds, SupportsOldInputs: true})
	if d.DetailedDiff["create"].Kind != plugin.DiffUpdate || len(d.Replaces) != 0 {
		t.Errorf("create change: %+v", d)
	}
	same := Diff(DiffRequest{State: olds, News: olds, OldInputs: olds, SupportsOldInputs: true})
	if same.HasChanges || len(same.DetailedDiff) != 0 {
		t.Errorf("no change expected, got %+v", same)
	}
	// A changed host is an update too; the connection is a secret, which the object diff
	// compares whole, so the detailed diff names "connection".
	news2 := checked(t, pm(map[string]any{"create": "a", "connection": map[string]any{"host": "other"}}))
	d2 := Diff(DiffRequest{State: olds, News: news2, OldInputs: olds, SupportsOldInputs: true})
	if d2.DetailedDiff["connection"].Kind != plugin.DiffUpdate || len(d2.Replaces) != 0 {
		t.Errorf("host change: %+v", d2)
	}
}

func TestDiffWithoutOldInputsUsesTheState(t *testing.T) {
	state := outputsFrom(checked(t, base(map[string]any{"create": "a"})), BaseOutputs{Stdout: "o"})
	news := checked(t, base(map[string]any{"create": "a"}))
	d := Diff(DiffRequest{State: state, News: news})
	if d.HasChanges {
		t.Errorf("stdout in state must not count as a change: %+v", d)
	}
}

func TestCreatePreviewLeavesOutputsUnknown(t *testing.T) {
	in := checked(t, base(map[string]any{"create": "echo hi"}))
	id, out, err := Create(context.Background(), &recLogger{}, "setup", in, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "setup") || len(id) != len("setup")+8 {
		t.Errorf("id %q must be the name plus 8 hex digits", id)
	}
	if !out["stdout"].IsComputed() || !out["stderr"].IsComputed() {
		t.Errorf("stdout/stderr must be unknown in preview: %v", out)
	}
	if !out["connection"].IsSecret() || out["create"].StringValue() != "echo hi" {
		t.Errorf("inputs must be mirrored: %v", out)
	}
}

func TestCreateWithoutCommandHasEmptyOutputs(t *testing.T) {
	in := checked(t, base(nil))
	_, out, err := Create(context.Background(), &recLogger{}, "n", in, false)
	if err != nil {
		t.Fatal(err)
	}
	if out["stdout"].StringValue() != "" || out["stderr"].StringValue() != "" || out["stdout"].IsSecret() {
		t.Errorf("want plain empty outputs: %v", out)
	}
}

func TestUpdatePreviewMarksOutputsUnknownOnlyWhenAnInputChanged(t *testing.T) {
	state := outputsFrom(checked(t, base(map[string]any{"create": "a"})), BaseOutputs{Stdout: "old"})
	same := checked(t, base(map[string]any{"create": "a"}))
	out, err := Update(context.Background(), &recLogger{}, state, same, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if out["stdout"].IsComputed() || out["stdout"].StringValue() != "old" {
		t.Errorf("unchanged inputs keep the old stdout: %v", out["stdout"])
	}
	changed := checked(t, base(map[string]any{"create": "b"}))
	out, err = Update(context.Background(), &recLogger{}, state, changed, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() {
		t.Errorf("a changed input makes stdout unknown: %v", out["stdout"])
	}
}

// TestDialRetriesEveryErrorUpToTheLimit: a listener that closes every connection makes each SSH
// handshake fail; dialErrorLimit 2 must give 3 attempts and the original's wording.
func TestDialRetriesEveryErrorUpToTheLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepts := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepts++
			mu.Unlock()
			_ = c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	limit, perDial := 2, 5
	p := 0.0
	for _, ch := range port {
		p = p*10 + float64(ch-'0')
	}
	user := "root"
	c := Connection{connectionBase: connectionBase{Host: &host, Port: &p, User: &user, DialErrorLimit: &limit, PerDialTimeout: &perDial}}
	t.Setenv("SSH_AUTH_SOCK", "")
	log := &recLogger{}
	_, err = c.Dial(context.Background(), log)
	if err == nil || !strings.HasPrefix(err.Error(), "after 2 failed attempts: ") {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepts != 3 {
		t.Errorf("attempts = %d, want 3 (limit + 1)", accepts)
	}
	want := "info: Dial 1/2 failed: retrying\ninfo: Dial 2/2 failed: retrying"
	if strings.Join(log.status, "\n") != want {
		t.Errorf("status lines:\n%s", strings.Join(log.status, "\n"))
	}
}

func TestHostKeyParsing(t *testing.T) {
	bad := "not a key"
	c := connectionBase{HostKey: &bad}
	if _, err := c.sshConfig(); err == nil || !strings.HasPrefix(err.Error(), "failed to parse host key: ") {
		t.Errorf("err = %v", err)
	}
	good := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl comment"
	c = connectionBase{HostKey: &good}
	t.Setenv("SSH_AUTH_SOCK", "")
	cfg, err := c.sshConfig()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.HostKeyAlgorithms, ",") != "ssh-ed25519" || cfg.User != "root" {
		t.Errorf("config = %+v", cfg)
	}
}
