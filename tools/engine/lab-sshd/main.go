// Command lab-sshd is the VM lab's stand-in for the core node's SSH server in the Swarm phase
// (test/lab/swarm-services.ts), where the Swarm's nodes are dockerds in network namespaces with no
// sshd of their own and this machine has none either. The program's Commands on the core node
// (components/swarm.ts: the retire step, each stop step) reach it through the command provider
// exactly as they reach a server: public-key login with a pinned host key, `bash -s -- ARGS` with
// the script on stdin, the exit status back. Each command runs under bash here, with the
// environment given by -env (the lab points DOCKER_HOST at the core node's engine). Test-only: one
// authorized key, loopback only, no pty, no forwarding, no shell without a command.
//
//	lab-sshd -host-key FILE -authorized-key FILE [-listen 127.0.0.1:0] [-env K=V]...
//
// It prints the address it listens on as its first line and serves until stdin closes (so it
// never outlives the lab, which holds that pipe).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/crypto/ssh"
)

type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }
func (e *envFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("-env: should be KEY=VALUE (got %q)", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	hostKeyFile := flag.String("host-key", "", "the server's private host key (OpenSSH format)")
	authorizedFile := flag.String("authorized-key", "", "the one public key allowed to log in (authorized_keys line)")
	listen := flag.String("listen", "127.0.0.1:0", "the address to listen on (loopback)")
	var env envFlags
	flag.Var(&env, "env", "KEY=VALUE added to every command's environment (repeatable)")
	flag.Parse()
	if *hostKeyFile == "" || *authorizedFile == "" {
		log.Fatal("lab-sshd: -host-key and -authorized-key are required")
	}
	config, err := serverConfig(*hostKeyFile, *authorizedFile)
	if err != nil {
		log.Fatalf("lab-sshd: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("lab-sshd: %v", err)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatalf("lab-sshd: accept: %v", err)
		}
		go serve(conn, config, env)
	}
}

func serverConfig(hostKeyFile, authorizedFile string) (*ssh.ServerConfig, error) {
	pem, err := os.ReadFile(hostKeyFile)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("-host-key: %w", err)
	}
	line, err := os.ReadFile(authorizedFile)
	if err != nil {
		return nil, err
	}
	allowed, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return nil, fmt.Errorf("-authorized-key: %w", err)
	}
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), allowed.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("not the authorized key")
		},
	}
	config.AddHostKey(signer)
	return config, nil
}

func serve(conn net.Conn, config *ssh.ServerConfig, env []string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		log.Printf("lab-sshd: handshake: %v", err)
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go session(ch, creqs, env)
	}
}

// session answers env (kept for the command) and exec (run, then exit-status and close); anything
// else (pty-req, shell, subsystem) is refused.
func session(ch ssh.Channel, reqs <-chan *ssh.Request, env []string) {
	defer ch.Close()
	vars := append([]string{}, env...)
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			vars = append(vars, kv.Name+"="+kv.Value)
			_ = req.Reply(true, nil)
		case "exec":
			var c struct{ Command string }
			if ssh.Unmarshal(req.Payload, &c) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			status := run(ch, c.Command, vars)
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

func run(ch ssh.Channel, command string, vars []string) uint32 {
	cmd := exec.Command("bash", "-c", command)
	cmd.Env = append(os.Environ(), vars...)
	cmd.Stdin = ch
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if code := exit.ExitCode(); code >= 0 {
			return uint32(code)
		}
		return 255
	default:
		fmt.Fprintf(ch.Stderr(), "lab-sshd: %v\n", err)
		return 255
	}
}
