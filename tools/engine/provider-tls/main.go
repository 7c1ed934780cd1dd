// Command pulumi-resource-tls is a REPLAY of the Pulumi TLS provider v5.6.1
// (tls:index/privateKey:PrivateKey only), written by app-infra so the real Pulumi engine can run
// our program in the lab: the real provider's Go module is not available from our module proxy.
// It is not the real provider; see README.md for what it replays and what it does not.
package main

import "app-infra/tools/engine/replayplugin"

func main() {
	replayplugin.Main("tls", Version, newServer)
}
