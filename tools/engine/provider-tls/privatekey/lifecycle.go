package privatekey

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// CheckFailure is one invalid input. Like the bridge, it carries no property path: the reason
// names the place (bridge pkg/tfbridge/check_failures.go:187-195).
type CheckFailure struct{ Reason string }

// algorithmDescription is TF's description of `algorithm` (resource_private_key.go:65-66), which
// the bridge appends to a missing-required message (check_failures.go:355-373).
const algorithmDescription = "Name of the algorithm to use when generating the private key. " +
	"Currently-supported values are: `RSA`, `ECDSA`, `ED25519`. "

// Check returns the inputs UNCHANGED — the PF bridge applies no TF defaults in Check (they come
// with the plan; bridge provider_check.go, and the recorded 5.0.2 Check returns {algorithm,
// rsaBits} without ecdsaCurve) — plus TF's validation as check failures:
//   - algorithm absent: "Missing required property 'algorithm': <description>";
//   - algorithm / ecdsaCurve not in their sets: the framework validator's message
//     ("Invalid Attribute Value Match. Attribute algorithm value must be one of: ["RSA" "ECDSA"
//     "ED25519"], got: "X"") plus the bridge's ". Examine values at '<name>.<property>'.";
//
// unknown values are not validated (stringvalidator.OneOf skips them).
func Check(name string, news resource.PropertyMap) (resource.PropertyMap, []CheckFailure) {
	var failures []CheckFailure
	alg, ok := news["algorithm"]
	if !ok || alg.IsNull() {
		failures = append(failures, CheckFailure{
			Reason: "Missing required property 'algorithm': " + algorithmDescription,
		})
	} else if f := oneOf(name, "algorithm", "algorithm", alg, Algorithms); f != nil {
		failures = append(failures, *f)
	}
	if c, ok := news["ecdsaCurve"]; ok && !c.IsNull() {
		if f := oneOf(name, "ecdsa_curve", "ecdsaCurve", c, ECDSACurves); f != nil {
			failures = append(failures, *f)
		}
	}
	return news.Copy(), failures
}

func oneOf(name, tfName, pulumiName string, v resource.PropertyValue, allowed []string) *CheckFailure {
	if !v.IsString() {
		return nil
	}
	for _, a := range allowed {
		if v.StringValue() == a {
			return nil
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return &CheckFailure{Reason: fmt.Sprintf(
		"Invalid Attribute Value Match. Attribute %s value must be one of: [%s], got: %q. Examine values at '%s.%s'.",
		tfName, strings.Join(quoted, " "), v.StringValue(), name, pulumiName)}
}

// planned returns the inputs with TF's plan defaults applied.
func planned(inputs resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range InputKeys {
		if v, ok := inputs[resource.PropertyKey(k)]; ok && !v.IsNull() {
			out[resource.PropertyKey(k)] = v
		}
	}
	if _, ok := out["rsaBits"]; !ok {
		out["rsaBits"] = resource.NewNumberProperty(DefaultRSABits)
	}
	if _, ok := out["ecdsaCurve"]; !ok {
		out["ecdsaCurve"] = resource.NewStringProperty(DefaultECDSACurve)
	}
	return out
}

// DiffResult is the answer to Diff.
type DiffResult struct {
	Changed  []string          // top-level keys that change
	Replaces []string          // keys that force a replacement
	Detailed map[string]string // key -> "ADD_REPLACE" | "UPDATE_REPLACE" | "DELETE_REPLACE"
}

// Diff compares the planned inputs (defaults applied) with the prior state (bridge
// provider_diff.go:23-150). Every input is RequiresReplace, so every input change is a replace;
// when anything changes TF's plan also marks every computed output unknown, so those keys are
// reported as changed too. DeleteBeforeReplace is false (pulumi-tls sets no
// ResourceInfo.DeleteBeforeReplace). pulumi-tls enables accurate bridge preview, so a detailed
// diff is given; ours lists the changed inputs only.
func Diff(state, news resource.PropertyMap) DiffResult {
	plan := planned(news)
	res := DiffResult{Detailed: map[string]string{}}
	for _, k := range InputKeys {
		key := resource.PropertyKey(k)
		nv := plan[key]
		ov, had := state[key]
		if had && !ov.IsNull() && (nv.IsComputed() == ov.IsComputed()) && nv.DeepEquals(ov) {
			continue
		}
		res.Replaces = append(res.Replaces, k)
		if !had || ov.IsNull() {
			res.Detailed[k] = "ADD_REPLACE"
		} else {
			res.Detailed[k] = "UPDATE_REPLACE"
		}
	}
	if len(res.Replaces) > 0 {
		res.Changed = append(append(res.Changed, res.Replaces...), ComputedKeys...)
		sort.Strings(res.Changed)
	}
	return res
}

// PreviewState is what Create returns during preview: the plan, with every computed output
// unknown and no ID (bridge provider_create.go:46-62).
func PreviewState(inputs resource.PropertyMap) resource.PropertyMap {
	out := planned(inputs)
	for _, k := range ComputedKeys {
		out[resource.PropertyKey(k)] = resource.MakeComputed(resource.NewStringProperty(""))
	}
	return out
}

// metaKey holds the TF schema version (1, resource_private_key.go:54) the way the bridge records
// it; the recorded Create response carries exactly this string.
const metaKey = "__meta"

// Create generates the key and returns its ID and state (bridge provider_create.go:64-118):
// the planned inputs, every computed output, the private ones secret, "__meta", and "id" both
// as the resource ID and as a property.
func Create(inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	plan := planned(inputs)
	alg := ""
	if v := plan["algorithm"]; v.IsString() {
		alg = v.StringValue()
	}
	bits := DefaultRSABits
	if v := plan["rsaBits"]; v.IsNumber() {
		bits = int(v.NumberValue())
	}
	curve := DefaultECDSACurve
	if v := plan["ecdsaCurve"]; v.IsString() {
		curve = v.StringValue()
	}
	k, err := Generate(alg, bits, curve)
	if err != nil {
		return "", nil, err
	}
	out := plan
	out[metaKey] = resource.NewStringProperty(`{"schema_version":"1"}`)
	values := map[string]string{
		"id":                         k.ID,
		"privateKeyPem":              k.PrivateKeyPem,
		"privateKeyPemPkcs8":         k.PrivateKeyPemPkcs8,
		"privateKeyOpenssh":          k.PrivateKeyOpenssh,
		"publicKeyPem":               k.PublicKeyPem,
		"publicKeyOpenssh":           k.PublicKeyOpenssh,
		"publicKeyFingerprintMd5":    k.PublicKeyFingerprintMd5,
		"publicKeyFingerprintSha256": k.PublicKeyFingerprintSha256,
	}
	for name, v := range values {
		pv := resource.NewStringProperty(v)
		if SecretKeys[name] {
			pv = resource.MakeSecret(pv)
		}
		out[resource.PropertyKey(name)] = pv
	}
	return k.ID, out, nil
}
