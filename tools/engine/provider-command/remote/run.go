package remote

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// Environment variables carrying the previous run's output (util/util.go:29-30).
const (
	envStdout = "PULUMI_COMMAND_STDOUT"
	envStderr = "PULUMI_COMMAND_STDERR"
)

// run executes cmd on the host — remote/commandOutputs.go:30-108, step by step:
//  1. dial (with retries); the client is never closed afterwards, as in the original;
//  2. one session; every `environment` entry via Setenv — a refusal (sshd without AcceptEnv) is
//     logged as an error and fails the run;
//  3. unless addPreviousOutputInEnv is false, the PREVIOUS stdout/stderr (the state's, empty on
//     create) via Setenv as PULUMI_COMMAND_STDOUT / _STDERR, only when non-empty; a refusal is
//     only a warning;
//  4. stdin when non-empty;
//  5. both streams captured separately and interleaved; the streams `logging` selects are also
//     copied line by line to the engine as ephemeral info status lines;
//  6. on failure the error is "<ssh error>: running \"<cmd>\":\n<interleaved output>" and the
//     outputs are left as they were; on success stdout/stderr are stored with ONE trailing
//     newline trimmed.
func (c *CommandOutputs) run(ctx context.Context, log Logger, cmd string, logging *Logging) error {
	client, err := c.Connection.Dial(ctx, log)
	if err != nil {
		return err
	}
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close() //nolint:errcheck // as in the original

	for k, v := range c.Environment {
		if err := session.Setenv(k, v); err != nil {
			return setenvFailed(log, "error", k, err)
		}
	}
	if c.AddPreviousOutputInEnv == nil || *c.AddPreviousOutputInEnv {
		if c.Stdout != "" {
			if err := session.Setenv(envStdout, c.Stdout); err != nil {
				_ = setenvFailed(log, "warning", envStdout, err)
			}
		}
		if c.Stderr != "" {
			if err := session.Setenv(envStderr, c.Stderr); err != nil {
				_ = setenvFailed(log, "warning", envStderr, err)
			}
		}
	}
	if c.Stdin != nil && len(*c.Stdin) > 0 {
		session.Stdin = strings.NewReader(*c.Stdin)
	}

	var stdoutbuf, stderrbuf, both bytes.Buffer
	r, w := io.Pipe()
	outWriters := []io.Writer{&stdoutbuf, &both}
	if logging.ShouldLogStdout() {
		outWriters = append(outWriters, w)
	}
	session.Stdout = io.MultiWriter(outWriters...)
	errWriters := []io.Writer{&stderrbuf, &both}
	if logging.ShouldLogStderr() {
		errWriters = append(errWriters, w)
	}
	session.Stderr = io.MultiWriter(errWriters...)

	done := make(chan struct{})
	go logOutput(log, r, done)

	err = session.Run(cmd)
	_ = w.Close()
	<-done

	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, cmd, both.String())
	}
	c.BaseOutputs = BaseOutputs{
		Stdout: strings.TrimSuffix(stdoutbuf.String(), "\n"),
		Stderr: strings.TrimSuffix(stderrbuf.String(), "\n"),
	}
	return nil
}

// logOutput posts each line as an info status line (util/util.go:32-53). Like the original it
// uses bufio.Scanner's default 64 KiB line limit: a longer line stops the reader, and the
// command's further writes to the pipe then block — the original hangs the same way.
func logOutput(log Logger, r io.Reader, done chan<- struct{}) {
	defer close(done)
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		log.LogStatus("info", scanner.Text())
	}
}

// setenvFailed: remote/commandOutputs.go:110-126 — message text kept as the original has it,
// including its odd indentation.
func setenvFailed(log Logger, severity, key string, err error) error {
	msg := fmt.Sprintf(`Unable to set '%s'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`, key)
	log.Log(severity, msg)
	return fmt.Errorf("could not set environment variable %q: %w", key, err)
}
