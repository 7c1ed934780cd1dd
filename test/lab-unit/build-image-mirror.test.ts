// build-image.sh reads its Debian mirror from the machine's apt sources (the repository names no
// mirror host): both formats of sources.list(5), checked on fixture trees by `--print-mirror DIR`.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = process.env.LAB_BUILD_IMAGE_SH ?? join(__dirname, "..", "lab", "build-image.sh");
const root = mkdtempSync(join(tmpdir(), "lab-mirror-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Example hosts only (RFC 2606 names): what matters is which entry is picked.
let n = 0;
function mirror(files: Record<string, string>): { code: number | null; out: string; err: string } {
  const dir = join(root, String(++n));
  mkdirSync(join(dir, "sources.list.d"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = spawnSync("bash", [SCRIPT, "--print-mirror", dir], { encoding: "utf8" });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe("build-image.sh --print-mirror", () => {
  it("Debian 12's deb822 debian.sources: the main archive, not security", () => {
    const r = mirror({
      "sources.list.d/debian.sources": [
        "Types: deb",
        "# http://snapshot.example.org/archive/debian/20250520T000000Z",
        "URIs: http://mirror.example.org/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb",
        "URIs: http://mirror.example.org/debian-security",
        "Suites: bookworm-security",
        "Components: main",
        "",
      ].join("\n"),
    });
    expect(r).toEqual({ code: 0, out: "http://mirror.example.org/debian", err: "" });
  });

  it("skips disabled stanzas, deb-src and third-party suites; takes the first of several URIs", () => {
    const r = mirror({
      "sources.list.d/vendor.sources":
        "Types: deb\nURIs: https://vendor.example.com/node\nSuites: nodistro\nComponents: main\n",
      "sources.list.d/debian.sources": [
        "Types: deb",
        "URIs: http://off.example.org/debian",
        "Suites: bookworm",
        "Components: main",
        "Enabled: no",
        "",
        "Types: deb-src",
        "URIs: http://src.example.org/debian",
        "Suites: bookworm",
        "Components: main",
        "",
        "Types: deb",
        "URIs: http://one.example.org/debian",
        " http://two.example.org/debian",
        "Suites: bookworm",
        "Components: main contrib",
      ].join("\n"),
    });
    expect(r.out).toBe("http://one.example.org/debian");
  });

  it("one-line sources.list, with [options] and comments", () => {
    const r = mirror({
      "sources.list": [
        "# deb http://commented.example.org/debian bookworm main",
        "deb-src http://src.example.org/debian bookworm main",
        "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://line.example.org/debian bookworm main non-free-firmware",
        "deb http://line.example.org/debian-security bookworm-security main",
      ].join("\n"),
    });
    expect(r.out).toBe("http://line.example.org/debian");
  });

  it("a bookworm entry wins over another Debian suite; another suite is the fallback", () => {
    expect(
      mirror({
        "sources.list":
          "deb http://t.example.org/debian trixie main\ndeb http://b.example.org/debian bookworm main\n",
      }).out,
    ).toBe("http://b.example.org/debian");
    expect(
      mirror({
        "sources.list.d/debian.sources":
          "Types: deb\nURIs: http://t.example.org/debian\nSuites: trixie trixie-updates\nComponents: main\n",
      }).out,
    ).toBe("http://t.example.org/debian");
  });

  it("fails clearly when there is no Debian main source", () => {
    const r = mirror({
      "sources.list.d/vendor.sources":
        "Types: deb\nURIs: https://vendor.example.com/node\nSuites: nodistro\nComponents: main\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/no Debian mirror in .*sources\.list/);
    expect(mirror({}).code).toBe(1);
  });
});
