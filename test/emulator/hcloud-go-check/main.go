// Drives the emulator with hcloud-go, the client library inside our hcloud plugin, through the
// calls terraform-provider-hcloud v1.59.0 makes for hcloud_server, hcloud_ssh_key, hcloud_firewall,
// hcloud_server_types and stage 4's hcloud_network, hcloud_network_subnet and hcloud_server_network (tools/engine/provider-hcloud/API-CALLS.md). A field the emulator
// shapes wrongly shows up here as a decode error or a panic in hcloud-go's converters.
// Usage: go run . <endpoint> <token>
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func check(ok bool, format string, args ...any) {
	if !ok {
		fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", args...)
		os.Exit(1)
	}
	fmt.Printf("ok   "+format+"\n", args...)
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	c := hcloud.NewClient(
		hcloud.WithEndpoint(os.Args[1]),
		hcloud.WithToken(os.Args[2]),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(50 * time.Millisecond)}),
	)

	types, err := c.ServerType.All(ctx)
	must(err, "ServerType.All")
	check(len(types) > 0 && types[0].Locations[0].Location.Name != "", "ServerType.All: %d types, first %s in %s", len(types), types[0].Name, types[0].Locations[0].Location.Name)
	st, _, err := c.ServerType.Get(ctx, "cx23")
	must(err, "ServerType.Get")
	check(st != nil && st.Cores == 2 && st.Memory == 4, "ServerType.Get cx23: %d cores, %.0f GB", st.Cores, st.Memory)
	img, _, err := c.Image.GetForArchitecture(ctx, "ubuntu-24.04", st.Architecture)
	must(err, "Image.GetForArchitecture")
	check(img != nil && img.Architecture == hcloud.ArchitectureX86, "Image.GetForArchitecture: id %d %s", img.ID, img.Architecture)
	pr, _, err := c.Pricing.Get(ctx)
	must(err, "Pricing.Get")
	check(len(pr.ServerTypes) == len(types) && len(pr.PrimaryIPs) == 2, "Pricing.Get: %d server types, %d primary IP types", len(pr.ServerTypes), len(pr.PrimaryIPs))

	key, _, err := c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "deploy", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAs3NjxhU2l6CmeglwMwgMdp7hhGf0igutLegRGMOSW5 test-a", Labels: map[string]string{}})
	must(err, "SSHKey.Create")
	k2, _, err := c.SSHKey.Get(ctx, fmt.Sprint(key.ID))
	must(err, "SSHKey.Get")
	check(k2.Fingerprint == "65:7c:58:29:ce:a7:9f:b9:66:64:23:19:b4:24:53:3f", "SSHKey.Get: MD5 fingerprint %s", k2.Fingerprint)

	_, any4, _ := net.ParseCIDR("0.0.0.0/0")
	fwr, _, err := c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: "fw", Labels: map[string]string{"app": "x"}, Rules: []hcloud.FirewallRule{{Direction: hcloud.FirewallRuleDirectionIn, Protocol: hcloud.FirewallRuleProtocolTCP, Port: hcloud.Ptr("22"), SourceIPs: []net.IPNet{*any4}, Description: hcloud.Ptr("ssh")}}})
	must(err, "Firewall.Create")
	must(c.Action.WaitFor(ctx, fwr.Actions...), "Firewall.Create actions")
	fw, _, err := c.Firewall.GetByID(ctx, fwr.Firewall.ID)
	must(err, "Firewall.GetByID")
	check(len(fw.Rules) == 1 && fw.Rules[0].SourceIPs[0].String() == "0.0.0.0/0", "Firewall.GetByID: rule source %s", fw.Rules[0].SourceIPs[0].String())

	res, _, err := c.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "app", ServerType: &hcloud.ServerType{Name: "cx23"}, Image: img, Location: &hcloud.Location{Name: "fsn1"},
		SSHKeys: []*hcloud.SSHKey{key}, UserData: "#cloud-config\n", Labels: map[string]string{"app": "x"},
		Firewalls: []*hcloud.ServerCreateFirewall{{Firewall: hcloud.Firewall{ID: fw.ID}}},
		PublicNet: &hcloud.ServerCreatePublicNet{EnableIPv4: true, EnableIPv6: true},
	})
	must(err, "Server.Create")
	must(c.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...), "Server.Create actions")
	s, _, err := c.Server.Get(ctx, fmt.Sprint(res.Server.ID))
	must(err, "Server.Get")
	check(s.Status == hcloud.ServerStatusRunning && s.PublicNet.IPv4.IP.String() != "" && s.PublicNet.IPv6.Network != nil && len(s.PublicNet.Firewalls) == 1 && s.Location.Name == "fsn1" && s.Image.Name == "ubuntu-24.04",
		"Server.Get: %s %s %s %s firewalls=%d disk=%d", s.Status, s.PublicNet.IPv4.IP, s.PublicNet.IPv6.Network, s.ServerType.Name, len(s.PublicNet.Firewalls), s.PrimaryDiskSize)

	_, _, err = c.Server.ChangeType(ctx, s, hcloud.ServerChangeTypeOpts{ServerType: &hcloud.ServerType{Name: "cx33"}})
	check(hcloud.IsError(err, hcloud.ErrorCodeServerNotStopped), "ChangeType while running: %v", err)
	a, _, err := c.Server.Poweroff(ctx, s)
	must(err, "Server.Poweroff")
	must(c.Action.WaitFor(ctx, a), "Poweroff action")
	a, _, err = c.Server.ChangeType(ctx, s, hcloud.ServerChangeTypeOpts{ServerType: &hcloud.ServerType{Name: "cx33"}, UpgradeDisk: false})
	must(err, "Server.ChangeType")
	must(c.Action.WaitFor(ctx, a), "ChangeType action")
	s, _, err = c.Server.GetByID(ctx, s.ID)
	must(err, "Server.GetByID")
	check(s.ServerType.Name == "cx33" && s.PrimaryDiskSize == 40, "after ChangeType: %s, %s, disk %d GB", s.ServerType.Name, s.Status, s.PrimaryDiskSize)

	_, _, err = c.Server.Create(ctx, hcloud.ServerCreateOpts{Name: "app", ServerType: &hcloud.ServerType{Name: "cx23"}, Image: img})
	check(hcloud.IsError(err, hcloud.ErrorCodeUniquenessError), "duplicate name: %v", err)

	// Stage 4's private network, as the provider drives it: a network, a cloud subnet in the
	// location's zone, the server attached at a fixed address, read back, then detached.
	_, nwRange, _ := net.ParseCIDR("10.0.0.0/16")
	_, subRange, _ := net.ParseCIDR("10.0.1.0/24")
	nw, _, err := c.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: "app", IPRange: nwRange, Labels: map[string]string{"app": "x"}})
	must(err, "Network.Create")
	a, _, err = c.Network.AddSubnet(ctx, nw, hcloud.NetworkAddSubnetOpts{Subnet: hcloud.NetworkSubnet{Type: hcloud.NetworkSubnetTypeCloud, NetworkZone: hcloud.NetworkZoneEUCentral, IPRange: subRange}})
	must(err, "Network.AddSubnet")
	must(c.Action.WaitFor(ctx, a), "AddSubnet action")
	nw, _, err = c.Network.Get(ctx, "app")
	must(err, "Network.Get by name")
	check(len(nw.Subnets) == 1 && nw.Subnets[0].Gateway.String() == "10.0.0.1" && nw.Subnets[0].NetworkZone == hcloud.NetworkZoneEUCentral, "Network.Get: subnet %s gateway %s", nw.Subnets[0].IPRange, nw.Subnets[0].Gateway)
	a, _, err = c.Server.AttachToNetwork(ctx, s, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: net.ParseIP("10.0.1.2")})
	must(err, "Server.AttachToNetwork")
	must(c.Action.WaitFor(ctx, a), "AttachToNetwork action")
	_, _, err = c.Server.AttachToNetwork(ctx, s, hcloud.ServerAttachToNetworkOpts{Network: nw})
	check(hcloud.IsError(err, hcloud.ErrorCodeServerAlreadyAttached), "a second attach: %v", err)
	s, _, err = c.Server.GetByID(ctx, s.ID)
	must(err, "Server.GetByID")
	pn := s.PrivateNetFor(nw)
	check(pn != nil && pn.IP.String() == "10.0.1.2" && pn.MACAddress != "", "Server.PrivateNetFor: %v", pn)
	_, _, err = c.Network.DeleteSubnet(ctx, nw, hcloud.NetworkDeleteSubnetOpts{Subnet: nw.Subnets[0]})
	check(err != nil && strings.Contains(err.Error(), "servers are attached"), "DeleteSubnet with a server attached: %v", err)
	a, _, err = c.Server.DetachFromNetwork(ctx, s, hcloud.ServerDetachFromNetworkOpts{Network: nw})
	must(err, "Server.DetachFromNetwork")
	must(c.Action.WaitFor(ctx, a), "DetachFromNetwork action")
	a, _, err = c.Network.DeleteSubnet(ctx, nw, hcloud.NetworkDeleteSubnetOpts{Subnet: nw.Subnets[0]})
	must(err, "Network.DeleteSubnet")
	must(c.Action.WaitFor(ctx, a), "DeleteSubnet action")
	_, err = c.Network.Delete(ctx, nw)
	must(err, "Network.Delete")

	a, _, err = c.Server.EnableBackup(ctx, s, "")
	must(err, "Server.EnableBackup")
	must(c.Action.WaitFor(ctx, a), "EnableBackup action")
	a, _, err = c.Server.ChangeProtection(ctx, s, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(true), Rebuild: hcloud.Ptr(true)})
	must(err, "Server.ChangeProtection")
	must(c.Action.WaitFor(ctx, a), "ChangeProtection action")
	_, _, err = c.Server.DeleteWithResult(ctx, s)
	check(hcloud.IsError(err, hcloud.ErrorCodeProtected), "delete of a protected server: %v", err)
	a, _, err = c.Server.ChangeProtection(ctx, s, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(false), Rebuild: hcloud.Ptr(false)})
	must(err, "Server.ChangeProtection off")
	must(c.Action.WaitFor(ctx, a), "ChangeProtection off action")

	sd, _, err := c.Server.Shutdown(ctx, s)
	must(err, "Server.Shutdown")
	must(c.Action.WaitFor(ctx, sd), "Shutdown action")

	dr, _, err := c.Server.DeleteWithResult(ctx, s)
	must(err, "Server.DeleteWithResult")
	must(c.Action.WaitFor(ctx, dr.Action), "Delete action")
	gone, _, err := c.Server.Get(ctx, fmt.Sprint(s.ID))
	check(gone == nil && err == nil, "Server.Get after delete: nil, no error")
	fw, _, err = c.Firewall.GetByID(ctx, fw.ID)
	must(err, "Firewall.GetByID")
	check(len(fw.AppliedTo) == 0, "firewall no longer applied to the deleted server")
	_, err = c.Firewall.Delete(ctx, fw)
	must(err, "Firewall.Delete")
	_, err = c.SSHKey.Delete(ctx, key)
	must(err, "SSHKey.Delete")
	fmt.Println("PASS")
}
