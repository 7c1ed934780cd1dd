package remote

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// remote/connection.go:31-34: 10 dial errors by default, -1 means no limit.
const (
	dialErrorDefault   = 10
	dialErrorUnlimited = -1
)

// Logger is where the provider's messages go: Log is a lasting diagnostic, LogStatus an
// ephemeral status line (pulumi-go-provider logging.go: InfoStatus -> host.LogStatus).
type Logger interface {
	Log(severity string, msg string)
	LogStatus(severity string, msg string)
}

// sshConfig builds the client configuration (remote/connection.go:85-148):
//   - hostKey set: parsed as one authorized_keys line; only that key is accepted
//     (ssh.FixedHostKey) and only its algorithm is offered (HostKeyAlgorithms);
//   - hostKey unset: any host key is accepted (ssh.InsecureIgnoreHostKey);
//   - auth methods in order: private key (with passphrase if given), password plus
//     keyboard-interactive answering every question with the password, then the agent at
//     agentSocketPath or $SSH_AUTH_SOCK — and a failure to reach that agent is an error here,
//     before any dial, so it is not retried;
//   - Timeout is perDialTimeout seconds (0 = none).
func (con *connectionBase) sshConfig() (*ssh.ClientConfig, error) {
	var hostKeyCallback ssh.HostKeyCallback
	var hostKeyAlgorithms []string
	if con.HostKey != nil {
		publicKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*con.HostKey))
		if err != nil {
			return nil, fmt.Errorf("failed to parse host key: %w", err)
		}
		hostKeyCallback = ssh.FixedHostKey(publicKey)
		hostKeyAlgorithms = []string{publicKey.Type()}
	} else {
		hostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // the replayed provider does this when no hostKey is given
	}

	// Check always fills user and perDialTimeout; the real code dereferences them unguarded.
	user, perDial := "root", 15
	if con.User != nil {
		user = *con.User
	}
	if con.PerDialTimeout != nil {
		perDial = *con.PerDialTimeout
	}
	config := &ssh.ClientConfig{
		User:              user,
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: hostKeyAlgorithms,
		Timeout:           time.Second * time.Duration(perDial),
	}
	if con.PrivateKey != nil {
		var signer ssh.Signer
		var err error
		if con.PrivateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*con.PrivateKey), []byte(*con.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*con.PrivateKey))
		}
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeys(signer))
	}
	if con.Password != nil {
		password := *con.Password
		config.Auth = append(config.Auth, ssh.Password(password))
		config.Auth = append(config.Auth, ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					answers[i] = password
				}
				return answers, nil
			}))
	}

	socket := con.AgentSocketPath
	if socket == nil {
		// remote/connection_unix.go:12-17
		if env := os.Getenv("SSH_AUTH_SOCK"); env != "" {
			socket = &env
		}
	}
	if socket != nil {
		conn, err := net.Dial("unix", *socket)
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return config, nil
}

func (con connectionBase) dialErrorLimit() int {
	if con.DialErrorLimit == nil {
		return dialErrorDefault
	}
	return *con.DialErrorLimit
}

// reachedDialingErrorLimit: remote/connection.go:252-255.
func reachedDialingErrorLimit(dials, limit int) bool {
	return limit > dialErrorUnlimited && dials > limit
}

// dialWithRetry retries f on EVERY error — refused connection, timeout, handshake or host-key
// failure, auth failure alike — with the SDK's retry.Until defaults (first wait 100 ms, x1.5 per
// try, at most 5 s; sdk/go/common/util/retry/until.go:39-43, the same constants at the sdk v3.224.0
// pulumi-command v1.2.1 builds with). remote/connection.go:150-187.
//
// Quirks kept: the limit counts *errors after the first*, so dialErrorLimit N makes N+1 attempts,
// and the final message says "after N failed attempts" with the zero-based try number; each retry
// posts the status line "<msg> <dials>/<limit|inf> failed: retrying".
func dialWithRetry[T any](ctx context.Context, log Logger, msg string, maxAttempts int, f func() (T, error)) (T, error) {
	var userError error
	ok, data, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			var result T
			result, userError = f()
			if userError == nil {
				return true, result, nil
			}
			dials := try + 1
			if reachedDialingErrorLimit(dials, maxAttempts) {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, userError)
			}
			limit := "inf"
			if maxAttempts != -1 {
				limit = fmt.Sprintf("%d", maxAttempts)
			}
			log.LogStatus("info", fmt.Sprintf("%s %d/%s failed: retrying", msg, dials, limit))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return data.(T), nil
	}
	var zero T
	if err == nil {
		err = ctx.Err()
	}
	return zero, err
}

// Dial connects to the host, through the proxy when one is set (remote/connection.go:189-243):
// with a proxy it dials the proxy (its own limit), then a TCP channel from the proxy to the
// host, then the SSH handshake over it, each step retried and each error prefixed "proxy: ".
func (c *Connection) Dial(ctx context.Context, log Logger) (*ssh.Client, error) {
	config, err := c.sshConfig()
	if err != nil {
		return nil, err
	}
	port := 22
	if c.Port != nil {
		port = int(*c.Port)
	}
	endpoint := net.JoinHostPort(*c.Host, fmt.Sprintf("%d", port))
	tries := c.dialErrorLimit()
	if c.Proxy == nil {
		return dialWithRetry(ctx, log, "Dial", tries, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", endpoint, config)
		})
	}

	proxyConfig, err := c.Proxy.sshConfig()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	proxyPort := 22
	if c.Proxy.Port != nil {
		proxyPort = int(*c.Proxy.Port)
	}
	proxyClient, err := dialWithRetry(ctx, log, "Dial proxy", c.Proxy.dialErrorLimit(), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", net.JoinHostPort(*c.Proxy.Host, fmt.Sprintf("%d", proxyPort)), proxyConfig)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	conn, err := dialWithRetry(ctx, log, "Dial from proxy", tries, func() (net.Conn, error) {
		return proxyClient.Dial("tcp", endpoint)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	var channels <-chan ssh.NewChannel
	var requests <-chan *ssh.Request
	sshConn, err := dialWithRetry(ctx, log, "Dial", tries, func() (ssh.Conn, error) {
		cc, ch, r, err := ssh.NewClientConn(conn, endpoint, config)
		channels, requests = ch, r
		return cc, err
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return ssh.NewClient(sshConn, channels, requests), nil
}
