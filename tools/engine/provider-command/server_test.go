package main

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

const urn = "urn:pulumi:dev::p::command:remote:Command::setup"

func TestServerCheckAndPreviewOverTheWire(t *testing.T) {
	srv, _ := newServer(nil)
	ctx := context.Background()
	info, _ := srv.GetPluginInfo(ctx, &emptypb.Empty{})
	if !strings.HasPrefix(info.GetVersion(), "1.2.1+replay") {
		t.Errorf("version %q must say replay", info.GetVersion())
	}
	if _, err := srv.Configure(ctx, &pulumirpc.ConfigureRequest{AcceptSecrets: true, SendsOldInputs: true, SendsOldInputsToDelete: true}); err != nil {
		t.Fatal(err)
	}
	news, _ := plugin.MarshalProperties(resource.NewPropertyMapFromMap(map[string]any{
		"create":     "echo hi",
		"connection": map[string]any{"host": "10.0.0.2", "privateKey": "k"},
	}), plugin.MarshalOptions{})
	chk, err := srv.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: news})
	if err != nil || len(chk.GetFailures()) > 0 {
		t.Fatalf("check: %v %v", err, chk.GetFailures())
	}
	// A secret travels as an object with the secret signature.
	conn := chk.GetInputs().GetFields()["connection"].GetStructValue().GetFields()
	if conn[resource.SigKey].GetStringValue() != resource.SecretSig {
		t.Errorf("connection must be marshalled as a secret: %v", conn)
	}
	cr, err := srv.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: chk.GetInputs(), Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := cr.GetProperties().GetFields()["stdout"].GetStringValue(); got != plugin.UnknownStringValue {
		t.Errorf("preview stdout must be unknown, got %q", got)
	}
	if _, err := srv.Check(ctx, &pulumirpc.CheckRequest{Urn: "urn:pulumi:dev::p::command:local:Command::x", News: news}); err == nil ||
		!strings.Contains(err.Error(), "replay") {
		t.Errorf("other types must be refused naming the replay: %v", err)
	}
}

func TestCancelEndsRequestContexts(t *testing.T) {
	s, _ := newServer(nil)
	srv := s.(*server)
	ctx, done := srv.RequestContext(context.Background(), 0)
	defer done()
	if _, err := srv.Cancel(context.Background(), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
}
