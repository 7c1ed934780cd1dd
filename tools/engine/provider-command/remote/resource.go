package remote

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// decodeState decodes checked inputs or a state into CommandOutputs (stdout/stderr optional
// here, since inputs do not carry them).
func decodeCommand(m resource.PropertyMap) (CommandOutputs, error) {
	var in CommandInputs
	failures, err := decodeInto(withoutKeys(m, "stdout", "stderr"), &in)
	if err != nil {
		return CommandOutputs{}, err
	}
	if len(failures) > 0 {
		return CommandOutputs{}, fmt.Errorf("invalid inputs: %s", failures[0].Reason)
	}
	out := CommandOutputs{CommandInputs: in}
	if v, ok := m["stdout"]; ok && v.IsString() {
		out.Stdout = v.StringValue()
	}
	if v, ok := m["stderr"]; ok && v.IsString() {
		out.Stderr = v.StringValue()
	}
	return out, nil
}

func withoutKeys(m resource.PropertyMap, keys ...string) resource.PropertyMap {
	out := m.Copy()
	for _, k := range keys {
		delete(out, resource.PropertyKey(k))
	}
	return out
}

// outputsFrom builds the state the real encoder would produce: the inputs as given (secrets and
// unknowns in place — infer's encoder restores them, and markSecret keeps a same-named output as
// secret as its input, infer/resource.go:592-630) plus stdout and stderr, which are never secret:
// the default secret flow only links same-named fields (infer/resource.go:772-810).
func outputsFrom(inputs resource.PropertyMap, base BaseOutputs) resource.PropertyMap {
	out := inputs.Copy()
	out["stdout"] = resource.NewStringProperty(base.Stdout)
	out["stderr"] = resource.NewStringProperty(base.Stderr)
	return out
}

// Create replays remote/commandController.go:31-60 under infer's Create
// (infer/resource.go:1255-1314):
//   - the ID is NewUniqueHex(name, 8, 0) — the name plus 8 random hex digits;
//   - preview: the inputs, with stdout/stderr unknown (infer/resource.go:545-590: outputs not
//     mirroring an input are computed during a create preview);
//   - no `create` command: stdout/stderr are "";
//   - a failed command is an error with NO partial state, so the engine records nothing.
func Create(ctx context.Context, log Logger, name string, inputs resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	id, err := resource.NewUniqueHex(name, 8, 0)
	if err != nil {
		return "", nil, err
	}
	if preview {
		out := outputsFrom(inputs, BaseOutputs{})
		out["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
		out["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
		return id, out, nil
	}
	state, err := decodeCommand(inputs)
	if err != nil {
		return "", nil, err
	}
	if state.Create == nil {
		return id, outputsFrom(inputs, BaseOutputs{}), nil
	}
	if err := state.run(ctx, log, *state.Create, state.Logging); err != nil {
		return "", nil, err
	}
	return id, outputsFrom(inputs, state.BaseOutputs), nil
}

// Update replays remote/commandController.go:63-83 under infer's Update
// (infer/resource.go:1410-1482):
//   - the new state starts as the new inputs plus the OLD stdout/stderr, which is what the run sees
//     as PULUMI_COMMAND_STDOUT/STDERR;
//   - preview: stdout/stderr become unknown when any input is unknown or differs from the old
//     state's value of the same name (inputs absent from the old state do not count);
//   - otherwise runs `update`, else `create`, else nothing (the old outputs stay);
//   - a failed command is an error with no partial state: the engine keeps the old state.
func Update(ctx context.Context, log Logger, oldState, news resource.PropertyMap, ignoreChanges []string, preview bool) (resource.PropertyMap, error) {
	news = news.Copy()
	for _, k := range ignoreChanges {
		if v, ok := oldState[resource.PropertyKey(k)]; ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	olds, err := decodeCommand(oldState)
	if err != nil {
		return nil, err
	}
	if preview {
		out := outputsFrom(news, olds.BaseOutputs)
		if dependsOnChange(oldState, news) {
			out["stdout"] = resource.MakeComputed(out["stdout"])
			out["stderr"] = resource.MakeComputed(out["stderr"])
		}
		return out, nil
	}
	state, err := decodeCommand(news)
	if err != nil {
		return nil, err
	}
	state.BaseOutputs = olds.BaseOutputs
	switch {
	case state.Update != nil:
		err = state.run(ctx, log, *state.Update, state.Logging)
	case state.Create != nil:
		err = state.run(ctx, log, *state.Create, state.Logging)
	}
	if err != nil {
		return nil, err
	}
	return outputsFrom(news, state.BaseOutputs), nil
}

// dependsOnChange: infer/resource.go:565-588 with the old state standing in for old inputs.
func dependsOnChange(oldState, news resource.PropertyMap) bool {
	for _, k := range inputKeys {
		key := resource.PropertyKey(k)
		nv := news[key]
		if isTopUnknown(nv) {
			return true
		}
		if ov, ok := oldState[key]; ok && !sameValue(nv, ov) {
			return true
		}
	}
	return false
}

func isTopUnknown(v resource.PropertyValue) bool {
	return v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known)
}

// sameValue compares like pulumi-go-provider's putil.DeepEquals: values and secretness.
func sameValue(a, b resource.PropertyValue) bool {
	if a.ContainsSecrets() != b.ContainsSecrets() {
		return false
	}
	return a.DeepEquals(b)
}

// Delete replays remote/commandController.go:86-92: runs `delete` when set, against the state's
// connection, with the state's stdout/stderr offered as PULUMI_COMMAND_STDOUT/STDERR.
func Delete(ctx context.Context, log Logger, oldState resource.PropertyMap) error {
	state, err := decodeCommand(oldState)
	if err != nil {
		return err
	}
	if state.Delete == nil {
		return nil
	}
	return state.run(ctx, log, *state.Delete, state.Logging)
}
