// scripts/swarm-node.sh stop, run by real bash against a fake `docker` on PATH (the VM lab's Swarm
// phase runs it on a real Swarm): it scales the service to 0, waits while any of its tasks may still
// run (on any node), treats a missing service as done, fails after its timeout, and refuses bad
// arguments naming them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fakeDockerBox } from "./support/fake-docker";

const tmp = mkdtempSync(join(tmpdir(), "app-infra-swarm-stop-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A fake docker: `service inspect` succeeds unless the file `gone` exists; `service update` is
 * logged; `service ps` prints the next block of the file `ps` (blocks separated by `--`), the last
 * block again once they are used up.
 */
function box(psBlocks: string[][], gone = false) {
  const run = fakeDockerBox(
    tmp,
    String.raw`case "$1 $2" in
  "service inspect") [[ ! -e $d/gone ]] && echo svc0current ;;
  "service update") ;;
  "service ps")
    n=$(cat "$d/n" 2>/dev/null || echo 0)
    awk -v want="$n" 'BEGIN { RS = "--\n" } { last = $0; if (NR - 1 == want) { printf "%s", $0; found = 1 } } END { if (!found) printf "%s", last }' "$d/ps"
    echo $((n + 1)) >"$d/n" ;;
  *) exit 1 ;;
esac
`,
    (d) => {
      writeFileSync(join(d, "ps"), psBlocks.map((b) => b.join("\n")).join("\n--\n") + "\n");
      if (gone) writeFileSync(join(d, "gone"), "");
    },
  );
  return { run };
}

describe("swarm-node.sh stop", () => {
  it("scales the service to 0 and returns once none of its tasks may run, old tasks in the history aside", () => {
    const r = box([
      ["Running 5 minutes ago", "Shutdown 2 hours ago"],
      ["Running 5 minutes ago", "Shutdown 2 hours ago"],
      ["Shutdown 1 second ago", "Complete 2 hours ago", "Failed 3 hours ago"],
    ]).run("stop", "60", "worker-image");
    expect(r.code, r.err).toBe(0);
    expect(r.argv[0]).toBe("service inspect --format {{.ID}} worker-image");
    expect(r.argv[1]).toBe("service update --detach --replicas 0 worker-image");
    expect(r.argv.filter((a) => a === "service ps worker-image --format {{.CurrentState}}")).toHaveLength(3);
    expect(r.out).toContain("swarm-node: stopping service worker-image");
    expect(r.out).toContain("swarm-node: service worker-image stopped: no task runs");
  });

  it.each([
    "Starting 1 second ago",
    "Preparing 2 seconds ago",
    "Ready 1 second ago",
    "Assigned 1 second ago",
    "Accepted 1 second ago",
  ])("waits while a task is %s", (state) => {
    const r = box([[state], ["Shutdown 1 second ago"]]).run("stop", "60", "worker-image");
    expect(r.code, r.err).toBe(0);
    expect(r.argv.filter((a) => a.startsWith("service ps"))).toHaveLength(2);
  });

  it("a service already gone is nothing to stop", () => {
    const r = box([["Running 1 second ago"]], true).run("stop", "60", "worker-image");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("swarm-node: no service worker-image; nothing to stop");
    expect(r.argv).toEqual(["service inspect --format {{.ID}} worker-image"]);
  });

  it("given the ID it was made for, stops that service", () => {
    const r = box([["Running 1 second ago"], ["Shutdown 1 second ago"]]).run(
      "stop",
      "60",
      "worker-image",
      "svc0current",
    );
    expect(r.code, r.err).toBe(0);
    expect(r.argv[1]).toBe("service update --detach --replicas 0 worker-image");
  });

  it("a service of that name with another ID is a successor: left running", () => {
    const r = box([["Running 1 second ago"]]).run("stop", "60", "worker-image", "svc0replaced");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      "swarm-node: service worker-image is svc0current now, not svc0replaced; nothing to stop",
    );
    expect(r.argv).toEqual(["service inspect --format {{.ID}} worker-image"]);
  });

  it("fails after its timeout, naming the service and how many tasks still run", () => {
    const r = box([["Running 1 second ago", "Running 1 second ago"]]).run("stop", "1", "worker-image");
    expect(r.code).toBe(1);
    expect(r.err).toContain("swarm-node: service worker-image still runs 2 task(s) after 1s");
  });

  it.each([
    [["stop", "60"], "stop: takes SERVICE and, optionally, its ID (got 0 arguments)"],
    [["stop", "60", "a", "b", "c"], "stop: takes SERVICE and, optionally, its ID (got 3 arguments)"],
    [
      ["stop", "60", "worker-image", "-x"],
      "ID: should be a Swarm service ID such as 4k2tbflvsk0bd3hfx7yml0lxx (got '-x')",
    ],
    [["stop", "soon", "worker-image"], "TIMEOUT_S: should be a whole number of seconds (got 'soon')"],
    [["stop", "60", "-rf"], "SERVICE: should be a Swarm service name such as worker-image (got '-rf')"],
    [["halt", "60", "worker-image"], "the action should be admit, drain, stop, retire or gate (got 'halt')"],
  ])("refuses %j", (args, why) => {
    const r = box([["Running 1 second ago"]]).run(...args);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`swarm-node: ${why}`);
    expect(r.argv.some((a) => a.startsWith("service update"))).toBe(false);
  });
});
