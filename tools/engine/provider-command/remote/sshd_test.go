package remote

// A round trip against a real OpenSSH server on loopback: a throwaway sshd (Debian's
// openssh-server) with its own host key, authorized_keys and config in a temp dir, run as root on
// a free port. Skipped when not root or when /usr/sbin/sshd is absent. Never touches ~/.ssh or
// /etc/ssh; creates /run/sshd (sshd's privilege-separation dir) when it is missing.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type sshdFixture struct {
	port       int
	hostKey    string // authorized_keys form
	otherKey   string // a host key the server does not have
	clientKey  string // OpenSSH private key
	connection func(extra map[string]any) resource.PropertyValue
}

func keygen(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	path := filepath.Join(dir, name)
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	p, _ := os.ReadFile(path)
	q, _ := os.ReadFile(path + ".pub")
	return string(p), string(q)
}

func startSSHD(t *testing.T) *sshdFixture {
	t.Helper()
	const sshd = "/usr/sbin/sshd"
	if os.Geteuid() != 0 {
		t.Skip("needs root to run sshd")
	}
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("openssh-server is not installed")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, hostPub := keygen(t, dir, "host_key")
	_, otherPub := keygen(t, dir, "other_host_key")
	clientPriv, clientPub := keygen(t, dir, "client_key")
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, []byte(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()

	config := filepath.Join(dir, "sshd_config")
	cfg := fmt.Sprintf(`ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AcceptEnv FOO PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR
LogLevel ERROR
`, filepath.Join(dir, "host_key"), authKeys, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd's log goes to a file, not a pipe: the per-connection children outlive the listener
	// (the replayed provider never closes its SSH clients), and a pipe would keep Wait waiting.
	logPath := filepath.Join(dir, "sshd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", config, "-p", fmt.Sprint(port))
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderr := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	t.Cleanup(func() {
		// The listener and its session children share the process group we gave it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("sshd log:\n%s", stderr())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen: %s", stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	f := &sshdFixture{port: port, hostKey: hostPub, otherKey: otherPub, clientKey: clientPriv}
	f.connection = func(extra map[string]any) resource.PropertyValue {
		m := map[string]any{"host": "127.0.0.1", "port": float64(port), "privateKey": clientPriv, "hostKey": hostPub}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(m)))
	}
	return f
}

func TestSSHRoundTrip(t *testing.T) {
	f := startSSHD(t)
	ctx := context.Background()

	t.Run("pinned host key, stdin, environment, both streams", func(t *testing.T) {
		in := checked(t, resource.PropertyMap{
			"connection":  f.connection(nil),
			"create":      resource.NewStringProperty(`cat; echo "foo=$FOO" >&2`),
			"stdin":       resource.NewStringProperty("hello from stdin\n"),
			"environment": resource.NewObjectProperty(resource.PropertyMap{"FOO": resource.NewStringProperty("bar")}),
		})
		log := &recLogger{}
		id, out, err := Create(ctx, log, "rt", in, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "rt") {
			t.Errorf("id %q", id)
		}
		if got := out["stdout"].StringValue(); got != "hello from stdin" {
			t.Errorf("stdout = %q (one trailing newline trimmed)", got)
		}
		if got := out["stderr"].StringValue(); got != "foo=bar" {
			t.Errorf("stderr = %q", got)
		}
		if out["stdout"].IsSecret() {
			t.Errorf("stdout must not be secret")
		}
		// x/crypto/ssh copies stdout and stderr in separate goroutines, so the two lines may
		// reach the log in either order.
		streamed := append([]string(nil), log.status...)
		sort.Strings(streamed)
		if strings.Join(streamed, "|") != "info: foo=bar|info: hello from stdin" {
			t.Errorf("streamed lines = %q", log.status)
		}

		// Update with no `update` command reruns `create`, and sees the old output in the env.
		state := out
		news := checked(t, resource.PropertyMap{
			"connection": f.connection(nil),
			"create":     resource.NewStringProperty(`echo "prev=$PULUMI_COMMAND_STDOUT"`),
			"logging":    resource.NewStringProperty("none"),
			"delete":     resource.NewStringProperty(`echo "deleting after: $PULUMI_COMMAND_STDOUT"; test "$PULUMI_COMMAND_STDOUT" = "prev=hello from stdin"`),
		})
		log2 := &recLogger{}
		out2, err := Update(ctx, log2, state, news, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := out2["stdout"].StringValue(); got != "prev=hello from stdin" {
			t.Errorf("update stdout = %q", got)
		}
		if len(log2.status) != 0 {
			t.Errorf("logging none must stream nothing, got %q", log2.status)
		}
		// Delete runs `delete` with the state's stdout in the env; the test command fails otherwise.
		if err := Delete(ctx, &recLogger{}, out2); err != nil {
			t.Errorf("delete: %v", err)
		}
	})

	t.Run("addPreviousOutputInEnv false hides the previous output", func(t *testing.T) {
		state := outputsFrom(checked(t, resource.PropertyMap{"connection": f.connection(nil)}), BaseOutputs{Stdout: "old"})
		news := checked(t, resource.PropertyMap{
			"connection":             f.connection(nil),
			"create":                 resource.NewStringProperty(`echo "[${PULUMI_COMMAND_STDOUT:-unset}]"`),
			"addPreviousOutputInEnv": resource.NewBoolProperty(false),
		})
		out, err := Update(ctx, &recLogger{}, state, news, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := out["stdout"].StringValue(); got != "[unset]" {
			t.Errorf("stdout = %q", got)
		}
	})

	t.Run("exit code failure carries the interleaved output", func(t *testing.T) {
		cmd := `echo out-line; echo err-line >&2; exit 3`
		in := checked(t, resource.PropertyMap{"connection": f.connection(nil), "create": resource.NewStringProperty(cmd)})
		_, out, err := Create(ctx, &recLogger{}, "fail", in, false)
		if err == nil || out != nil {
			t.Fatalf("want an error and no state, got %v %v", err, out)
		}
		prefix := fmt.Sprintf("Process exited with status 3: running %q:\n", cmd)
		if !strings.HasPrefix(err.Error(), prefix) ||
			!strings.Contains(err.Error(), "out-line\n") || !strings.Contains(err.Error(), "err-line\n") {
			t.Errorf("error = %q", err.Error())
		}
	})

	t.Run("wrong host key is refused and retried up to dialErrorLimit", func(t *testing.T) {
		in := checked(t, resource.PropertyMap{
			"connection": f.connection(map[string]any{"hostKey": f.otherKey, "dialErrorLimit": 2.0}),
			"create":     resource.NewStringProperty("true"),
		})
		log := &recLogger{}
		start := time.Now()
		_, _, err := Create(ctx, log, "wrongkey", in, false)
		if err == nil || err.Error() != "after 2 failed attempts: ssh: handshake failed: ssh: host key mismatch" {
			t.Fatalf("err = %v", err)
		}
		if strings.Join(log.status, "|") != "info: Dial 1/2 failed: retrying|info: Dial 2/2 failed: retrying" {
			t.Errorf("status = %q", log.status)
		}
		t.Logf("3 refused dials took %s (waits 100 ms + 150 ms)", time.Since(start))
	})

	t.Run("no host key accepts any", func(t *testing.T) {
		in := checked(t, resource.PropertyMap{
			"connection": f.connection(map[string]any{"hostKey": nil}),
			"create":     resource.NewStringProperty("echo ok"),
		})
		_, out, err := Create(ctx, &recLogger{}, "insecure", in, false)
		if err != nil || out["stdout"].StringValue() != "ok" {
			t.Fatalf("err = %v out = %v", err, out)
		}
	})

	t.Run("environment refused by sshd fails the run", func(t *testing.T) {
		in := checked(t, resource.PropertyMap{
			"connection":  f.connection(nil),
			"create":      resource.NewStringProperty("true"),
			"environment": resource.NewObjectProperty(resource.PropertyMap{"NOT_ACCEPTED": resource.NewStringProperty("x")}),
		})
		log := &recLogger{}
		_, _, err := Create(ctx, log, "env", in, false)
		if err == nil || !strings.HasPrefix(err.Error(), `could not set environment variable "NOT_ACCEPTED": `) {
			t.Fatalf("err = %v", err)
		}
		if len(log.logs) != 1 || !strings.HasPrefix(log.logs[0], "error: Unable to set 'NOT_ACCEPTED'.") {
			t.Errorf("logs = %q", log.logs)
		}
	})
}
