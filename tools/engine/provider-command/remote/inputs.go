// REPLAY of pulumi-command v1.2.1's command:remote:Command — written for app-infra's lab, not the
// real provider. The real module (github.com/pulumi/pulumi-command/provider) and its framework
// (pulumi-go-provider v1.3.0) are refused by our Go module proxy, so this package re-implements
// the behaviour their source defines, in our own code. Citations are "file:line" at pulumi-command
// tag v1.2.1 (commit 7f3eb6f3) and pulumi-go-provider tag v1.3.0 unless said otherwise.
//
// Only command:remote:Command is replayed: local:Command, local:run, remote:CopyToRemote and
// remote:CopyFile are not (our program does not use them).
package remote

// The shapes below carry the same `pulumi:"…"` tags as the real structs, because the tags ARE the
// wire contract: the SDK's mapper decodes by them, and its error messages name the Go type
// ("Missing required field 'host' on 'remote.Connection'"), so the package is called `remote` and
// the types keep their names on purpose.
//
// provider/pkg/provider/common/inputs.go:6-15 (ResourceInputs: triggers is replaceOnChanges),
// remote/command.go:37-49 (CommandInputs: connection is secret), remote/connection.go:36-52.

// ResourceInputs are the lifecycle commands shared by local and remote Command.
type ResourceInputs struct {
	Triggers *[]any  `pulumi:"triggers,optional"`
	Create   *string `pulumi:"create,optional"`
	Update   *string `pulumi:"update,optional"`
	Delete   *string `pulumi:"delete,optional"`
}

// CommandInputs is what a program passes to command.remote.Command.
type CommandInputs struct {
	ResourceInputs
	Stdin                  *string           `pulumi:"stdin,optional"`
	Logging                *Logging          `pulumi:"logging,optional"`
	Connection             *Connection       `pulumi:"connection"`
	Environment            map[string]string `pulumi:"environment,optional"`
	AddPreviousOutputInEnv *bool             `pulumi:"addPreviousOutputInEnv,optional"`
}

// BaseOutputs are the captured streams (remote/baseOutputs.go:21-24). Not optional: always in state.
type BaseOutputs struct {
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

// CommandOutputs is the state: every input plus stdout and stderr (remote/command.go:70-73).
type CommandOutputs struct {
	CommandInputs
	BaseOutputs
}

type connectionBase struct {
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional"`
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	PrivateKey         *string  `pulumi:"privateKey,optional"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

// Connection says how to reach the host, optionally through a bastion.
type Connection struct {
	connectionBase
	Proxy *ProxyConnection `pulumi:"proxy,optional"`
}

// ProxyConnection is the bastion hop; same fields and defaults as Connection (proxyConnection.go:21-51).
type ProxyConnection struct{ connectionBase }

// Defaults set by the real Annotate methods (remote/connection.go:57-78, proxyConnection.go:26-46);
// pulumi-go-provider applies them in Check (infer/resource.go:1045 -> infer/apply_defaults.go),
// only where the field is absent (a zero pointer), for both the connection and its proxy.
var connectionDefaults = map[string]any{
	"user":           "root",
	"port":           float64(22),
	"dialErrorLimit": float64(dialErrorDefault),
	"perDialTimeout": float64(15),
}

// Fields marked `provider:"secret"` in the real structs (remote/command.go:46,
// remote/connection.go:43-47). pulumi-go-provider marks them secret in Check's result
// (infer/apply_secrets.go) — the whole connection object, and inside it (and inside proxy) these.
var connectionSecretFields = []string{"password", "privateKey", "privateKeyPassword"}

// inputKeys lists CommandInputs' wire names, in declaration order; output fields depend on all of
// them for computedness during preview (infer/resource.go:743-770, ensureDefaultComputed).
var inputKeys = []string{
	"triggers", "create", "update", "delete",
	"stdin", "logging", "connection", "environment", "addPreviousOutputInEnv",
}

// replaceOnChangesKeys are the top-level input names whose schema says replaceOnChanges
// (common/inputs.go:10). infer's Diff compares them against detailed-diff KEYS, which for an array
// element are "triggers[0]" — so only adding or removing the whole list is a replace here; an
// element change is an update from the provider, and the SDK's own `replaceOnChanges: ["triggers[*]"]`
// option (node_modules/@pulumi/command/remote/command.js:132) makes the engine replace.
var replaceOnChangesKeys = map[string]bool{"triggers": true}
