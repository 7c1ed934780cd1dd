package remote

import (
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/mapper"
)

// CheckFailure is one invalid input, as sent back in CheckResponse.failures.
type CheckFailure struct {
	Property string
	Reason   string
}

// Check validates inputs by decoding them into CommandInputs (unknown keys, missing required
// fields and wrong types are failures, not errors), fills the connection defaults, and marks the
// secret fields — pulumi-go-provider v1.3.0 infer/resource.go:994-1050 (Check without a custom
// Check: decodeCheckingMapErrors, defaultCheck, encode, applySecrets).
func Check(news resource.PropertyMap) (resource.PropertyMap, []CheckFailure, error) {
	var inputs CommandInputs
	failures, err := decodeInto(news, &inputs)
	if err != nil {
		return nil, nil, err
	}
	if len(failures) > 0 {
		// On failure the real one still applies secrets, so nothing leaks into a preview
		// (infer/resource.go:1033-1041).
		return applySecrets(news.Copy()), failures, nil
	}
	out := news.Copy()
	if c, ok := out["connection"]; ok {
		out["connection"] = withConnectionDefaults(c)
	}
	return applySecrets(out), nil, nil
}

// decodeInto decodes a property map into dst with the SDK's mapper, the same decoder
// pulumi-go-provider uses (infer/internal/ende/ende.go:41-57: IgnoreUnrecognized false). Secrets
// are unwrapped first. An unknown value is decoded as the zero value of its field's type, as the
// real encoder does (it restores the unknown afterwards), so an unknown host during preview is
// not a "missing" failure.
func decodeInto(m resource.PropertyMap, dst any) ([]CheckFailure, error) {
	plain := toMappable(resource.NewObjectProperty(m), reflect.TypeOf(dst).Elem()).(map[string]any)
	merr := mapper.New(&mapper.Opts{}).Decode(plain, dst)
	if merr == nil {
		return nil, nil
	}
	var failures []CheckFailure
	for _, e := range merr.Failures() {
		var fe mapper.FieldError
		if !errors.As(e, &fe) {
			// infer/resource.go:1113-1130: a non-field mapping error is an error, not a failure.
			return nil, e
		}
		failures = append(failures, CheckFailure{Property: fe.Field(), Reason: fe.Reason()})
	}
	sort.Slice(failures, func(i, j int) bool { return failures[i].Reason < failures[j].Reason })
	return failures, nil
}

// toMappable converts a property value to plain Go values for the mapper, guided by the Go type
// the value decodes into (t may be nil when unknown, e.g. inside []any).
func toMappable(v resource.PropertyValue, t reflect.Type) any {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case v.IsSecret():
		return toMappable(v.SecretValue().Element, t)
	case isUnknown(v):
		if t == nil {
			return nil
		}
		return reflect.Zero(t).Interface()
	case v.IsOutput():
		return toMappable(v.OutputValue().Element, t)
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			if e.IsNull() {
				continue
			}
			out[string(k)] = toMappable(e, fieldType(t, string(k)))
		}
		return out
	case v.IsArray():
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = toMappable(e, et)
		}
		return out
	default:
		return v.Mappable()
	}
}

// fieldType finds the type of the field tagged `pulumi:"name"` in struct t (embedded structs
// included), or the element type of a map.
func fieldType(t reflect.Type, name string) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for _, f := range reflect.VisibleFields(t) {
			tag := strings.Split(f.Tag.Get("pulumi"), ",")[0]
			if tag == name {
				return f.Type
			}
		}
	}
	return nil
}

func isUnknown(v resource.PropertyValue) bool {
	if v.IsComputed() {
		return true
	}
	if v.IsOutput() && !v.OutputValue().Known {
		return true
	}
	if v.IsSecret() {
		return isUnknown(v.SecretValue().Element)
	}
	return false
}

// withConnectionDefaults fills absent connection (and proxy) fields with their defaults, keeping
// the value's secretness. An unknown connection is left alone (there is nothing to fill).
func withConnectionDefaults(v resource.PropertyValue) resource.PropertyValue {
	return mapObject(v, func(obj resource.PropertyMap) resource.PropertyMap {
		obj = obj.Copy()
		for k, d := range connectionDefaults {
			if cur, ok := obj[resource.PropertyKey(k)]; !ok || cur.IsNull() {
				obj[resource.PropertyKey(k)] = resource.NewPropertyValue(d)
			}
		}
		// The defaults walker descends into a set proxy only (infer/apply_defaults.go: optional
		// nil struct pointers are skipped).
		if p, ok := obj["proxy"]; ok && !p.IsNull() {
			obj["proxy"] = withConnectionDefaults(p)
		}
		return obj
	})
}

// mapObject applies f to the object inside v, looking through a secret wrapper; anything else
// (unknown, not an object) is returned unchanged.
func mapObject(v resource.PropertyValue, f func(resource.PropertyMap) resource.PropertyMap) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return resource.MakeSecret(mapObject(v.SecretValue().Element, f))
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return v
		}
		inner := mapObject(o.Element, f)
		if o.Secret {
			return resource.MakeSecret(inner)
		}
		return inner
	case v.IsObject():
		return resource.NewObjectProperty(f(v.ObjectValue()))
	default:
		return v
	}
}

// applySecrets marks `connection` secret, and inside it (and inside its proxy) the password and
// key fields (infer/apply_secrets.go walks the input type and wraps every `provider:"secret"` field).
func applySecrets(m resource.PropertyMap) resource.PropertyMap {
	c, ok := m["connection"]
	if !ok {
		return m
	}
	var markFields func(obj resource.PropertyMap) resource.PropertyMap
	markFields = func(obj resource.PropertyMap) resource.PropertyMap {
		obj = obj.Copy()
		for _, k := range connectionSecretFields {
			if v, ok := obj[resource.PropertyKey(k)]; ok {
				obj[resource.PropertyKey(k)] = makeSecret(v)
			}
		}
		if p, ok := obj["proxy"]; ok {
			obj["proxy"] = mapObject(p, markFields)
		}
		return obj
	}
	m["connection"] = makeSecret(mapObject(c, markFields))
	return m
}

func makeSecret(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret) {
		return v
	}
	return resource.MakeSecret(v)
}
