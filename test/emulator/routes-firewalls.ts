// /firewalls and its actions: hcloud-go v2.35.0 hcloud/schema/firewall.go; the calls the provider
// makes are in terraform-provider-hcloud v1.59.0 internal/firewall/resource.go (Create with rules
// and apply_to, GetByID, Update, SetRules, ApplyResources, RemoveResources, Delete retried on
// `conflict`/`resource_in_use`). Firewalls only filter traffic on Hetzner; the emulator keeps the
// rules as data and enforces nothing (a qemu guest is reachable on its forwarded ports regardless).
import { now, type Action } from "./actions";
import { ApiError, invalidField } from "./errors";
import { paginate, parseLabelSelector, sortItems } from "./list";
import { checkQuery, type Rule, type Spec } from "./validate";
import type { Firewall, FirewallRule, Handler, Server, World } from "./world";

const RULE: Rule = {
  type: "object",
  fields: {
    direction: { type: "string", required: true, oneOf: ["in", "out"] },
    source_ips: { type: "array", items: { type: "string" } },
    destination_ips: { type: "array", items: { type: "string" } },
    protocol: { type: "string", required: true, oneOf: ["tcp", "udp", "icmp", "esp", "gre"] },
    port: { type: "string", nullable: true },
    description: { type: "string", nullable: true },
  },
};
const RESOURCE: Rule = {
  type: "object",
  fields: {
    type: { type: "string", required: true, oneOf: ["server", "label_selector"] },
    server: { type: "object", fields: { id: { type: "integer", required: true } } },
    label_selector: { type: "object", fields: { selector: { type: "string", required: true } } },
  },
};
const CREATE: Spec = {
  name: { type: "string", required: true },
  labels: { type: "labels" },
  rules: { type: "array", items: RULE },
  apply_to: { type: "array", items: RESOURCE },
};
const UPDATE: Spec = { name: { type: "string" }, labels: { type: "labels" } };

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

function checkRules(raw: any[], field: string): FirewallRule[] {
  return raw.map((r, i) => {
    const at = `${field}[${i}]`;
    const ported = r.protocol === "tcp" || r.protocol === "udp";
    if (ported && !r.port) throw invalidField(`${at}.port`, `is required for protocol ${r.protocol}`);
    if (!ported && r.port) throw invalidField(`${at}.port`, `is not allowed for protocol ${r.protocol}`);
    if (r.port && !/^(any|\d{1,5}(-\d{1,5})?)$/.test(r.port))
      throw invalidField(`${at}.port`, `should be a port, a range a-b, or any (got ${r.port})`);
    const ips = r.direction === "in" ? "source_ips" : "destination_ips";
    if (!r[ips]?.length) throw invalidField(`${at}.${ips}`, `is required for direction ${r.direction}`);
    for (const k of ["source_ips", "destination_ips"])
      for (const ip of r[k] ?? [])
        if (!CIDR.test(ip)) throw invalidField(`${at}.${k}`, `should hold CIDR networks (got ${ip})`);
    return {
      direction: r.direction,
      source_ips: r.source_ips ?? [],
      destination_ips: r.destination_ips ?? [],
      protocol: r.protocol,
      port: r.port ?? null,
      description: r.description ?? null,
    };
  });
}

/** Firewalls that apply to a server: directly, or through a label selector. */
export function firewallsOf(w: World, s: Server): number[] {
  return [...w.firewalls.values()]
    .filter(
      (f) => f.servers.includes(s.id) || f.labelSelectors.some((sel) => parseLabelSelector(sel)(s.labels)),
    )
    .map((f) => f.id);
}

export function firewallJson(w: World, f: Firewall) {
  const serversMatching = (sel: string) =>
    [...w.servers.values()].filter((s) => parseLabelSelector(sel)(s.labels));
  return {
    id: f.id,
    name: f.name,
    labels: f.labels,
    created: f.created,
    rules: f.rules,
    applied_to: [
      ...f.servers.map((id) => ({ type: "server", server: { id } })),
      ...f.labelSelectors.map((selector) => ({
        type: "label_selector",
        label_selector: { selector },
        applied_to_resources: serversMatching(selector).map((s) => ({
          type: "server",
          server: { id: s.id },
        })),
      })),
    ],
  };
}

type Resource =
  | { type: "server"; server?: { id: number }; label_selector?: { selector: string } }
  | { type: "label_selector"; server?: { id: number }; label_selector?: { selector: string } };

export function firewallRoutes(w: World): [string, string, Handler][] {
  const get = (id: string) => {
    const f = w.firewalls.get(Number(id));
    if (!f) throw new ApiError("not_found", `firewall with ID ${id} not found`);
    return f;
  };
  const nameTaken = (name: string, except?: number) =>
    [...w.firewalls.values()].some((f) => f.name === name && f.id !== except);
  const checkResources = (list: Resource[], field: string): ({ server: number } | { selector: string })[] =>
    list.map((r, i) => {
      if (r.type === "server") {
        if (!r.server) throw invalidField(`${field}[${i}].server`, "is required for type server");
        if (!w.servers.has(r.server.id))
          throw new ApiError("firewall_resource_not_found", `server with ID ${r.server.id} not found`);
        return { server: r.server.id };
      }
      if (!r.label_selector)
        throw invalidField(`${field}[${i}].label_selector`, "is required for type label_selector");
      parseLabelSelector(r.label_selector.selector);
      return { selector: r.label_selector.selector };
    });
  const quick = (command: string, resources: { id: number; type: string }[]): Action =>
    w.actions.start(command, resources, async () => undefined).action;
  const serverRefs = (f: Firewall) => f.servers.map((id) => ({ id, type: "server" }));

  return [
    [
      "GET",
      "/firewalls",
      (r) => {
        checkQuery(r.query, ["name", "label_selector", "sort", "page", "per_page"], ["sort"]);
        let items = [...w.firewalls.values()];
        const name = r.query.get("name");
        if (name !== null) items = items.filter((f) => f.name === name);
        const sel = r.query.get("label_selector");
        if (sel !== null) items = items.filter((f) => parseLabelSelector(sel)(f.labels));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (f) => f.id,
          name: (f) => f.name,
          created: (f) => f.created,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { firewalls: p.page.map((f) => firewallJson(w, f)), meta: p.meta } };
      },
    ],
    [
      "GET",
      "/firewalls/:id",
      (r) => {
        checkQuery(r.query, []);
        return { status: 200, body: { firewall: firewallJson(w, get(r.params.id!)) } };
      },
    ],
    [
      "POST",
      "/firewalls",
      (r) => {
        checkQuery(r.query, []);
        const b = r.body(CREATE);
        if (b.name === "") throw invalidField("name", "must not be empty");
        if (nameTaken(b.name))
          throw new ApiError("uniqueness_error", "firewall with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        const rules = checkRules(b.rules ?? [], "rules");
        const targets = checkResources(b.apply_to ?? [], "apply_to");
        const f: Firewall = {
          id: w.nextId("firewall"),
          name: b.name,
          labels: b.labels ?? {},
          created: now(),
          rules,
          servers: [],
          labelSelectors: [],
        };
        for (const t of targets) {
          if ("server" in t) f.servers.push(t.server);
          else f.labelSelectors.push(t.selector);
        }
        w.firewalls.set(f.id, f);
        for (const id of f.servers) w.servers.get(id)!.firewalls.push(f.id);
        const actions = targets.length
          ? [quick("apply_firewall", [{ id: f.id, type: "firewall" }, ...serverRefs(f)])]
          : [];
        return { status: 201, body: { firewall: firewallJson(w, f), actions } };
      },
    ],
    [
      "PUT",
      "/firewalls/:id",
      (r) => {
        checkQuery(r.query, []);
        const f = get(r.params.id!);
        const b = r.body(UPDATE);
        if (b.name !== undefined && b.name !== "" && nameTaken(b.name, f.id))
          throw new ApiError("uniqueness_error", "firewall with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        if (b.name) f.name = b.name;
        if (b.labels !== undefined) f.labels = b.labels;
        return { status: 200, body: { firewall: firewallJson(w, f) } };
      },
    ],
    [
      "DELETE",
      "/firewalls/:id",
      (r) => {
        checkQuery(r.query, []);
        const f = get(r.params.id!);
        if (f.servers.length || f.labelSelectors.length)
          throw new ApiError(
            "resource_in_use",
            `firewall ${f.id} is still applied to resources; remove it from them first`,
          );
        w.firewalls.delete(f.id);
        return { status: 204 };
      },
    ],
    [
      "POST",
      "/firewalls/:id/actions/set_rules",
      (r) => {
        checkQuery(r.query, []);
        const f = get(r.params.id!);
        const b = r.body({ rules: { type: "array", required: true, items: RULE } });
        f.rules = checkRules(b.rules, "rules");
        return {
          status: 201,
          body: {
            actions: [quick("set_firewall_rules", [{ id: f.id, type: "firewall" }, ...serverRefs(f)])],
          },
        };
      },
    ],
    [
      "POST",
      "/firewalls/:id/actions/apply_to_resources",
      (r) => {
        checkQuery(r.query, []);
        const f = get(r.params.id!);
        const b = r.body({ apply_to: { type: "array", required: true, items: RESOURCE } });
        const targets = checkResources(b.apply_to, "apply_to");
        for (const t of targets) {
          if ("server" in t ? f.servers.includes(t.server) : f.labelSelectors.includes(t.selector)) {
            throw new ApiError(
              "firewall_already_applied",
              `firewall ${f.id} is already applied to ${"server" in t ? `server ${t.server}` : `label selector ${t.selector}`}`,
            );
          }
        }
        const actions = targets.map((t) => {
          if ("server" in t) {
            f.servers.push(t.server);
            w.servers.get(t.server)!.firewalls.push(f.id);
            return quick("apply_firewall", [
              { id: f.id, type: "firewall" },
              { id: t.server, type: "server" },
            ]);
          }
          f.labelSelectors.push(t.selector);
          return quick("apply_firewall", [{ id: f.id, type: "firewall" }]);
        });
        return { status: 201, body: { actions } };
      },
    ],
    [
      "POST",
      "/firewalls/:id/actions/remove_from_resources",
      (r) => {
        checkQuery(r.query, []);
        const f = get(r.params.id!);
        const b = r.body({ remove_from: { type: "array", required: true, items: RESOURCE } });
        // Removing what is not applied is not an error since Hetzner's 2025-08-04 firewall change
        // (hcloud-go v2.35.0 error.go: firewall_already_removed "is not used by the API anymore").
        const actions = (b.remove_from as Resource[]).map((t, i) => {
          if (t.type === "server") {
            if (!t.server) throw invalidField(`remove_from[${i}].server`, "is required for type server");
            const id = t.server.id;
            f.servers = f.servers.filter((x) => x !== id);
            const s = w.servers.get(id);
            if (s) s.firewalls = s.firewalls.filter((x) => x !== f.id);
            return quick("remove_firewall", [
              { id: f.id, type: "firewall" },
              { id, type: "server" },
            ]);
          }
          if (!t.label_selector)
            throw invalidField(`remove_from[${i}].label_selector`, "is required for type label_selector");
          f.labelSelectors = f.labelSelectors.filter((x) => x !== t.label_selector!.selector);
          return quick("remove_firewall", [{ id: f.id, type: "firewall" }]);
        });
        return { status: 201, body: { actions } };
      },
    ],
  ];
}
