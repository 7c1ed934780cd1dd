package replayplugin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

const token = "demo:index:Thing"

func testBase() *Base {
	return NewBase(nil, Info{
		Version:   "1.0.0+replay.test",
		Replays:   "pulumi-demo",
		Token:     token,
		Schema:    map[string]any{"name": "demo", "version": "1.0.0"},
		Configure: &pulumirpc.ConfigureResponse{SupportsPreview: true},
		Unmarshal: plugin.MarshalOptions{KeepSecrets: true},
		Marshal: func(c *pulumirpc.ConfigureRequest) plugin.MarshalOptions {
			return plugin.MarshalOptions{KeepSecrets: c.GetAcceptSecrets()}
		},
	})
}

func TestPluginInfoAndSchema(t *testing.T) {
	b := testBase()
	info, _ := b.GetPluginInfo(context.Background(), &emptypb.Empty{})
	if info.GetVersion() != "1.0.0+replay.test" {
		t.Errorf("version %q", info.GetVersion())
	}
	schema, err := b.GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	if err != nil || schema.GetSchema() != `{"name":"demo","version":"1.0.0"}` {
		t.Errorf("schema %q, %v", schema.GetSchema(), err)
	}
}

func TestPropertiesCheckTheTypeFirst(t *testing.T) {
	b := testBase()
	_, err := b.Properties("urn:pulumi:dev::p::demo:index:Other::x", nil)
	if status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), `unknown resource type "demo:index:Other": this replay of pulumi-demo implements only demo:index:Thing`) {
		t.Errorf("wrong type: %v", err)
	}
	secret, _ := plugin.MarshalProperties(resource.PropertyMap{"a": resource.MakeSecret(resource.NewStringProperty("s"))},
		plugin.MarshalOptions{KeepSecrets: true})
	plain, _ := plugin.MarshalProperties(resource.PropertyMap{"b": resource.NewNumberProperty(1)}, plugin.MarshalOptions{})
	maps, err := b.Properties("urn:pulumi:dev::p::"+token+"::x", secret, plain)
	if err != nil || len(maps) != 2 || !maps[0]["a"].IsSecret() || maps[1]["b"].NumberValue() != 1 {
		t.Errorf("properties: %v %v", maps, err)
	}
}

func TestConfigureDecidesHowResponsesAreWritten(t *testing.T) {
	b := testBase()
	m := resource.PropertyMap{"a": resource.MakeSecret(resource.NewStringProperty("s"))}
	before, _ := b.Marshal(m)
	if before.GetFields()["a"].GetStringValue() != "s" {
		t.Errorf("before Configure a secret is written plain: %v", before)
	}
	resp, err := b.Configure(context.Background(), &pulumirpc.ConfigureRequest{AcceptSecrets: true})
	if err != nil || !resp.GetSupportsPreview() {
		t.Errorf("configure: %v %v", resp, err)
	}
	if !b.Configured().GetAcceptSecrets() {
		t.Error("Configured must return the request")
	}
	after, _ := b.Marshal(m)
	if after.GetFields()["a"].GetStructValue().GetFields()[resource.SigKey].GetStringValue() != resource.SecretSig {
		t.Errorf("after Configure(acceptSecrets) a secret keeps its signature: %v", after)
	}
}

func TestCancelEndsRequestContexts(t *testing.T) {
	b := testBase()
	inFlight, done := b.RequestContext(context.Background(), 0)
	defer done()
	if _, err := b.Cancel(context.Background(), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	<-inFlight.Done()
	later, done2 := b.RequestContext(context.Background(), 0)
	defer done2()
	<-later.Done()
}

func TestRequestContextTimeout(t *testing.T) {
	ctx, done := testBase().RequestContext(context.Background(), 0.01)
	defer done()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a 10 ms timeout did not end the context")
	}
}

func TestReadKeepsWhatTheEngineHas(t *testing.T) {
	st, _ := plugin.MarshalProperties(resource.PropertyMap{"a": resource.NewStringProperty("x")}, plugin.MarshalOptions{})
	resp, err := testBase().Read(context.Background(), &pulumirpc.ReadRequest{
		Urn: "urn:pulumi:dev::p::" + token + "::x", Id: "id1", Properties: st, Inputs: st,
	})
	if err != nil || resp.GetId() != "id1" || resp.GetProperties() != st || resp.GetInputs() != st {
		t.Errorf("read: %v %v", resp, err)
	}
}
