// Command pulumi-resource-tls is a REPLAY of the Pulumi TLS provider v5.6.1
// (tls:index/privateKey:PrivateKey only), written by app-infra so the real Pulumi engine can run
// our program in the lab: the real provider's Go module is not available from our module proxy.
// It is not the real provider; see README.md for what it replays and what it does not.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(Version)
		return
	}
	if err := provider.Main("tls", newServer); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %s", err.Error())
		os.Exit(1)
	}
}
