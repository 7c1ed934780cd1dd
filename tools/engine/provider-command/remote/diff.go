package remote

import (
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// DiffKind values as the engine's PropertyDiff kinds.
type DiffKind = plugin.DiffKind

// DiffResult is the provider's answer to Diff, ready to be put on the wire.
type DiffResult struct {
	HasChanges          bool
	DetailedDiff        map[string]plugin.PropertyDiff
	Replaces            []string
	Diffs               []string
	DeleteBeforeReplace bool
}

// DiffRequest carries what the engine sends.
type DiffRequest struct {
	State         resource.PropertyMap
	News          resource.PropertyMap
	OldInputs     resource.PropertyMap
	IgnoreChanges []string
	// SupportsOldInputs is Configure's sendsOldInputs && sendsOldInputsToDelete
	// (pulumi-go-provider provider.go:780).
	SupportsOldInputs bool
}

// Diff replays infer's default diff (pulumi-go-provider v1.3.0 infer/resource.go:1132-1253):
//   - ignoreChanges keys take their value from the old state;
//   - "version" and "__"-prefixed keys are dropped from the new inputs;
//   - old inputs come from the engine (or, for an engine that does not send them, from the
//     state's input-named fields);
//   - the SDK's object diff is turned into a detailed diff keyed by property path; a key that
//     names a replaceOnChanges input ("triggers" only, and only as a whole) becomes a replace;
//   - HasChanges is "any change", DeleteBeforeReplace is never set (infer leaves it false).
//
// Because Command implements Update, other changes are updates (infer/resource.go:1134-1150).
func Diff(req DiffRequest) DiffResult {
	news := req.News.Copy()
	// infer/resource.go:1159-1164 looks each ignoreChanges entry up as a top-level key
	// (property.Map.GetOk), so a nested path such as "connection.host" matches nothing here; the
	// engine has already applied ignoreChanges to the inputs before calling Diff anyway.
	for _, p := range req.IgnoreChanges {
		if v, ok := req.State[resource.PropertyKey(p)]; ok {
			news[resource.PropertyKey(p)] = v
		}
	}
	for k := range news {
		if k == "version" || strings.HasPrefix(string(k), "__") {
			delete(news, k)
		}
	}

	var oldInputs resource.PropertyMap
	if req.SupportsOldInputs {
		oldInputs = req.OldInputs
	} else {
		// infer/resource.go:1205-1219: fabricated from state; absent fields become null.
		oldInputs = resource.PropertyMap{}
		for _, k := range inputKeys {
			if v, ok := req.State[resource.PropertyKey(k)]; ok {
				oldInputs[resource.PropertyKey(k)] = v
			} else {
				oldInputs[resource.PropertyKey(k)] = resource.NewNullProperty()
			}
		}
	}

	objDiff := oldInputs.Diff(news)
	detailed := plugin.NewDetailedDiffFromObjectDiff(objDiff, false)
	out := DiffResult{HasChanges: objDiff.AnyChanges(), DetailedDiff: map[string]plugin.PropertyDiff{}}
	diffs, replaces := map[string]bool{}, map[string]bool{}
	for k, v := range detailed {
		if replaceOnChangesKeys[k] {
			v.Kind = v.Kind.AsReplace()
		}
		out.DetailedDiff[k] = plugin.PropertyDiff{Kind: v.Kind, InputDiff: v.InputDiff}
		// provider.go:191-216 — the top-level name of each path goes to diffs, and to replaces
		// when its kind is a replace.
		head := k
		if pp, err := resource.ParsePropertyPath(k); err == nil && len(pp) > 0 {
			if s, ok := pp[0].(string); ok {
				head = s
			}
		}
		diffs[head] = true
		if v.Kind.IsReplace() {
			replaces[head] = true
		}
	}
	out.Diffs = sortedKeys(diffs)
	out.Replaces = sortedKeys(replaces)
	return out
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
