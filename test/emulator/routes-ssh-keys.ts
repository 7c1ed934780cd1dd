// /ssh_keys: hcloud-go v2.35.0 hcloud/schema/ssh_key.go; list filters from hcloud/ssh_key.go
// SSHKeyListOpts (name, fingerprint, label_selector, sort). Names and fingerprints are unique per
// project (the reference's uniqueness_error example: "SSH key with the same fingerprint already exists").
import { createHash } from "node:crypto";
import { now } from "./actions";
import { ApiError, invalidField } from "./errors";
import { paginate, parseLabelSelector, sortItems } from "./list";
import { checkQuery, type Spec } from "./validate";
import type { Handler, SshKey, World } from "./world";

const CREATE: Spec = {
  name: { type: "string", required: true },
  public_key: { type: "string", required: true },
  labels: { type: "labels" },
};
const UPDATE: Spec = { name: { type: "string" }, labels: { type: "labels" } };

/** Hetzner shows the MD5 fingerprint of the key blob, as colon-separated hex. */
export function fingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const blob = parts[1] ?? "";
  const decoded = Buffer.from(blob, "base64");
  if (
    !/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-)/.test(parts[0] ?? "") ||
    decoded.length < 16 ||
    decoded.toString("base64").replace(/=+$/, "") !== blob.replace(/=+$/, "")
  ) {
    throw invalidField("public_key", "is not an OpenSSH public key (type, base64 blob, optional comment)");
  }
  return createHash("md5").update(decoded).digest("hex").match(/../g)!.join(":");
}

export function sshKeyJson(k: SshKey) {
  return {
    id: k.id,
    name: k.name,
    fingerprint: k.fingerprint,
    public_key: k.publicKey,
    labels: k.labels,
    created: k.created,
  };
}

export function sshKeyRoutes(w: World): [string, string, Handler][] {
  const get = (id: string) => {
    const k = w.sshKeys.get(Number(id));
    if (!k) throw new ApiError("not_found", `SSH key with ID ${id} not found`);
    return k;
  };
  const nameTaken = (name: string, except?: number) =>
    [...w.sshKeys.values()].some((k) => k.name === name && k.id !== except);

  return [
    [
      "GET",
      "/ssh_keys",
      (r) => {
        checkQuery(r.query, ["name", "fingerprint", "label_selector", "sort", "page", "per_page"], ["sort"]);
        let items = [...w.sshKeys.values()];
        const name = r.query.get("name");
        if (name !== null) items = items.filter((k) => k.name === name);
        const fp = r.query.get("fingerprint");
        if (fp !== null) items = items.filter((k) => k.fingerprint === fp);
        const sel = r.query.get("label_selector");
        if (sel !== null) items = items.filter((k) => parseLabelSelector(sel)(k.labels));
        items = sortItems(items, r.query.getAll("sort"), { id: (k) => k.id, name: (k) => k.name });
        const p = paginate(items, r.query);
        return { status: 200, body: { ssh_keys: p.page.map(sshKeyJson), meta: p.meta } };
      },
    ],
    [
      "GET",
      "/ssh_keys/:id",
      (r) => {
        checkQuery(r.query, []);
        return { status: 200, body: { ssh_key: sshKeyJson(get(r.params.id!)) } };
      },
    ],
    [
      "POST",
      "/ssh_keys",
      (r) => {
        checkQuery(r.query, []);
        const b = r.body(CREATE);
        if (b.name === "") throw invalidField("name", "must not be empty");
        const fp = fingerprint(b.public_key);
        if (nameTaken(b.name))
          throw new ApiError("uniqueness_error", "SSH key with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        if ([...w.sshKeys.values()].some((k) => k.fingerprint === fp)) {
          throw new ApiError("uniqueness_error", "SSH key with the same fingerprint already exists", [
            { name: "public_key", messages: ["already used"] },
          ]);
        }
        const k: SshKey = {
          id: w.nextId("sshKey"),
          name: b.name,
          fingerprint: fp,
          publicKey: b.public_key.trim(),
          labels: b.labels ?? {},
          created: now(),
        };
        w.sshKeys.set(k.id, k);
        return { status: 201, body: { ssh_key: sshKeyJson(k) } };
      },
    ],
    [
      "PUT",
      "/ssh_keys/:id",
      (r) => {
        checkQuery(r.query, []);
        const k = get(r.params.id!);
        const b = r.body(UPDATE);
        if (b.name !== undefined && b.name !== "" && nameTaken(b.name, k.id)) {
          throw new ApiError("uniqueness_error", "SSH key with the same name already exists", [
            { name: "name", messages: ["already used"] },
          ]);
        }
        if (b.name) k.name = b.name;
        if (b.labels !== undefined) k.labels = b.labels;
        return { status: 200, body: { ssh_key: sshKeyJson(k) } };
      },
    ],
    [
      "DELETE",
      "/ssh_keys/:id",
      (r) => {
        checkQuery(r.query, []);
        w.sshKeys.delete(get(r.params.id!).id);
        return { status: 204 };
      },
    ],
  ];
}
