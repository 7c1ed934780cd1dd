// Read-only endpoints: server types, locations, datacenters, images, pricing, actions.
// Schemas: hcloud-go v2.35.0 hcloud/schema/{server_type,location,datacenter,image,pricing,action}.go;
// query parameters: the `values()` of the matching *ListOpts in hcloud-go hcloud/*.go.
import { IMAGES, LOCATIONS, imageJson } from "./catalog";
import { ApiError, invalidField } from "./errors";
import { paginate, parseLabelSelector, sortItems } from "./list";
import { boolParam, checkQuery } from "./validate";
import type { Handler, World } from "./world";

const PAGE = ["page", "per_page"];

export function catalogRoutes(w: World): [string, string, Handler][] {
  const byName = <T extends { name: string }>(items: T[], name: string | null) =>
    name === null ? items : items.filter((i) => i.name === name);
  const idOf = (raw: string, what: string) => {
    if (!/^\d+$/.test(raw)) throw invalidField("id", `${what} ID should be an integer (got ${raw})`);
    return Number(raw);
  };

  return [
    [
      "GET",
      "/server_types",
      (r) => {
        checkQuery(r.query, ["name", "sort", ...PAGE], ["sort"]);
        const items = sortItems(byName(w.catalog.types, r.query.get("name")), r.query.getAll("sort"), {
          id: (t) => t.id,
          name: (t) => t.name,
        });
        const p = paginate(items, r.query);
        return {
          status: 200,
          body: { server_types: p.page.map((t) => w.catalog.serverTypeJson(t)), meta: p.meta },
        };
      },
    ],
    [
      "GET",
      "/server_types/:id",
      (r) => {
        checkQuery(r.query, []);
        const t = w.catalog.type(idOf(r.params.id!, "server type"));
        if (!t) throw new ApiError("not_found", `server type with ID ${r.params.id} not found`);
        return { status: 200, body: { server_type: w.catalog.serverTypeJson(t) } };
      },
    ],
    [
      "GET",
      "/locations",
      (r) => {
        checkQuery(r.query, ["name", "sort", ...PAGE], ["sort"]);
        const items = sortItems(byName([...LOCATIONS], r.query.get("name")), r.query.getAll("sort"), {
          id: (l) => l.id,
          name: (l) => l.name,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { locations: p.page, meta: p.meta } };
      },
    ],
    [
      "GET",
      "/locations/:id",
      (r) => {
        checkQuery(r.query, []);
        const l = w.catalog.location(idOf(r.params.id!, "location"));
        if (!l) throw new ApiError("not_found", `location with ID ${r.params.id} not found`);
        return { status: 200, body: { location: l } };
      },
    ],
    [
      "GET",
      "/datacenters",
      (r) => {
        checkQuery(r.query, ["name", "sort", ...PAGE], ["sort"]);
        const items = sortItems(
          byName(w.catalog.datacenters(), r.query.get("name")),
          r.query.getAll("sort"),
          { id: (d) => d.id, name: (d) => d.name },
        );
        const p = paginate(items, r.query);
        return { status: 200, body: { datacenters: p.page, recommendation: 1, meta: p.meta } };
      },
    ],
    [
      "GET",
      "/datacenters/:id",
      (r) => {
        checkQuery(r.query, []);
        const d = w.catalog.datacenters().find((x) => x.id === idOf(r.params.id!, "datacenter"));
        if (!d) throw new ApiError("not_found", `datacenter with ID ${r.params.id} not found`);
        return { status: 200, body: { datacenter: d } };
      },
    ],
    [
      "GET",
      "/images",
      (r) => {
        checkQuery(
          r.query,
          [
            "type",
            "bound_to",
            "name",
            "include_deprecated",
            "sort",
            "status",
            "architecture",
            "label_selector",
            ...PAGE,
          ],
          ["type", "sort", "status", "architecture"],
        );
        boolParam(r.query, "include_deprecated"); // no image is deprecated here: accepted either way
        if (r.query.has("bound_to"))
          return { status: 200, body: { images: [], meta: paginate([], r.query).meta } };
        let items = byName(IMAGES.map(imageJson), r.query.get("name"));
        const types = r.query.getAll("type");
        if (types.length) items = items.filter((i) => types.includes(i.type));
        const statuses = r.query.getAll("status");
        if (statuses.length) items = items.filter((i) => statuses.includes(i.status));
        const archs = r.query.getAll("architecture");
        for (const a of archs)
          if (a !== "x86" && a !== "arm")
            throw invalidField("architecture", `should be x86 or arm (got ${a})`);
        if (archs.length) items = items.filter((i) => archs.includes(i.architecture));
        const sel = r.query.get("label_selector");
        if (sel !== null) items = items.filter((i) => parseLabelSelector(sel)(i.labels));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (i) => i.id,
          name: (i) => i.name,
          created: (i) => i.created,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { images: p.page, meta: p.meta } };
      },
    ],
    [
      "GET",
      "/images/:id",
      (r) => {
        checkQuery(r.query, []);
        const i = IMAGES.find((x) => x.id === idOf(r.params.id!, "image"));
        if (!i) throw new ApiError("not_found", `image with ID ${r.params.id} not found`);
        return { status: 200, body: { image: imageJson(i) } };
      },
    ],
    [
      "GET",
      "/pricing",
      (r) => {
        checkQuery(r.query, []);
        return { status: 200, body: w.catalog.pricingJson() };
      },
    ],
    [
      "GET",
      "/actions",
      (r) => {
        checkQuery(r.query, ["id", "status", "sort", ...PAGE], ["id", "status", "sort"]);
        const ids = r.query.getAll("id").map((v) => idOf(v, "action"));
        let items = [...w.actions.all.values()];
        if (ids.length) items = items.filter((a) => ids.includes(a.id));
        const statuses = r.query.getAll("status");
        if (statuses.length) items = items.filter((a) => statuses.includes(a.status));
        items = sortItems(items, r.query.getAll("sort"), {
          id: (a) => a.id,
          command: (a) => a.command,
          status: (a) => a.status,
          started: (a) => a.started,
          finished: (a) => a.finished ?? "",
          progress: (a) => a.progress,
        });
        const p = paginate(items, r.query);
        return { status: 200, body: { actions: p.page, meta: p.meta } };
      },
    ],
    [
      "GET",
      "/actions/:id",
      (r) => {
        checkQuery(r.query, []);
        const a = w.actions.all.get(idOf(r.params.id!, "action"));
        if (!a) throw new ApiError("not_found", `action with ID ${r.params.id} not found`);
        return { status: 200, body: { action: a } };
      },
    ],
  ];
}
