// A real Hetzner client against the emulator: hcloud-go v2.35.0, the version
// terraform-provider-hcloud v1.59.0 (our hcloud plugin) pins. Run with ./run.sh.
module app-infra/test/emulator/hcloud-go-check

go 1.24.0

require github.com/hetznercloud/hcloud-go/v2 v2.35.0

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.23.2 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.66.1 // indirect
	github.com/prometheus/procfs v0.16.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/net v0.49.0 // indirect
	golang.org/x/sys v0.40.0 // indirect
	golang.org/x/text v0.33.0 // indirect
	google.golang.org/protobuf v1.36.8 // indirect
)
