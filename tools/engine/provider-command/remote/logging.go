package remote

// Logging selects which streams are echoed to the engine's log while a command runs; the
// outputs capture both streams either way (remote/logging.go:9-32 at pulumi-command v1.2.1).
type Logging string

// The four values of the enum, as on the wire.
const (
	LogStdout          Logging = "stdout"
	LogStderr          Logging = "stderr"
	LogStdoutAndStderr Logging = "stdoutAndStderr"
	NoLogging          Logging = "none"
)

// ShouldLogStdout is true when unset: the default logs both streams (remote/logging.go:27-29).
func (l *Logging) ShouldLogStdout() bool {
	return l == nil || *l == LogStdout || *l == LogStdoutAndStderr
}

// ShouldLogStderr mirrors ShouldLogStdout (remote/logging.go:30-32).
func (l *Logging) ShouldLogStderr() bool {
	return l == nil || *l == LogStderr || *l == LogStdoutAndStderr
}
