// scripts/swarm-node.sh retire and gate, run by real bash against a fake `docker` on PATH:
// - retire (a stage 3 → 4 move, before the Swarm's services start): stops and then removes the
//   stack's one-box containers role by role in the order given, all of a role in one `docker stop`
//   (so each uses its own stop grace period), leaves Swarm's tasks (same labels) and other stacks
//   alone, and is fine with none;
// - gate: waits for the proxy service's task on this node, runs kamal-proxy's deploy in it, and on
//   a failed health check prints the API service's logs and fails.
// test/real/swarm.test.ts runs retire on real dockerds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { snapshotCatalog } from "../../src/plan/catalog";
import { makePlan } from "../../src/plan/plan";
import { cfg } from "../plan/fixtures";
import { fakeDockerBox } from "./support/fake-docker";

const tmp = mkdtempSync(join(tmpdir(), "app-infra-swarm-retire-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake docker whose answers are the bash `case "$*" in` branches given; any other call fails. */
const fake = (branches: string) =>
  fakeDockerBox(
    tmp,
    `case "$*" in\n${branches}\n  *) echo "fake docker: unexpected: $*" >&2; exit 1 ;;\nesac\n`,
  );

const deploy = makePlan(cfg({ stage: 4, workerNodes: 1 }, "prod"), snapshotCatalog()).clusterDeploy!;
const psFor = (role: string) =>
  `ps -aq --filter label=app-infra.stack=prod --filter label=app-infra.role=${role} --format {{.ID}} {{.Label "com.docker.swarm.service.id"}}`;

describe("swarm-node.sh retire", () => {
  // Two one-box workers, a Swarm task of the workers (same labels, a service id), one Redis.
  const oneBox = `
  '${psFor("worker")}') printf 'w1 \\nw2 \\nt1 svc0123\\n' ;;
  '${psFor("redis")}') printf 'r1 \\n' ;;
  "ps -aq "*) ;;
  "stop "*|"rm "*) ;;`;

  it("stops, then removes, role by role in the plan's order, each role's containers in one stop", () => {
    const run = fake(oneBox);
    const r = run(...deploy.swarm.retire.args);
    expect(r.code, r.err).toBe(0);
    expect(deploy.swarm.retire.args).toEqual(["retire", "prod", "worker", "bot", "proxy", "api", "redis"]);
    expect(r.argv).toEqual([
      psFor("worker"),
      "stop w1 w2",
      "rm w1 w2",
      psFor("bot"),
      psFor("proxy"),
      psFor("api"),
      psFor("redis"),
      "stop r1",
      "rm r1",
    ]);
    expect(r.out).toContain("swarm-node: stopped and removed the one-box worker container(s): w1 w2");
    expect(r.out).toContain("swarm-node: no one-box bot container of stack prod");
  });

  it("a stack with no one-box container (a new one, a second run) is fine and stops nothing", () => {
    const r = fake(`  "ps -aq "*) ;;`)(...deploy.swarm.retire.args);
    expect(r.code, r.err).toBe(0);
    expect(r.argv.every((a) => a.startsWith("ps -aq "))).toBe(true);
  });

  it("fails when a stop fails, before removing anything or going on to Redis", () => {
    const run = fake(`
  '${psFor("worker")}') printf 'w1 \\n' ;;
  '${psFor("redis")}') printf 'r1 \\n' ;;
  "ps -aq "*) ;;
  "stop "*) echo "cannot stop" >&2; exit 1 ;;`);
    const r = run(...deploy.swarm.retire.args);
    expect(r.code).not.toBe(0);
    expect(r.argv).toEqual([psFor("worker"), "stop w1"]);
  });

  it.each([
    [["retire", "prod"], "retire: takes STACK and at least one ROLE"],
    [["retire", "-rf", "worker"], "STACK: should be a Pulumi stack name such as prod (got '-rf')"],
    [["retire", "prod", "Worker;"], "ROLE: should be a role such as worker (got 'Worker;')"],
  ])("refuses %j", (args, why) => {
    const r = fake(`  "ps -aq "*) ;;`)(...args);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`swarm-node: ${why}`);
    expect(r.argv.some((a) => a.startsWith("stop"))).toBe(false);
  });
});

describe("swarm-node.sh gate", () => {
  const g = deploy.swarm.gate.args;
  const task = "ps -q --filter label=com.docker.swarm.service.name=proxy --filter status=running";
  // No task on the first look, then c1.
  const proxyTask = `
  "${task}") if [[ -e $d/seen ]]; then echo c1; else touch "$d/seen"; fi ;;`;

  it("the plan's step: the proxy and API services, the log lines, then kamal-proxy's deploy of the API service", () => {
    expect(g.slice(0, 5)).toEqual(["gate", "60", "proxy", "api", "50"]);
    expect(g.slice(5, 10)).toEqual(["kamal-proxy", "deploy", "api", "--target", "api:8000"]);
    expect(g).toContain("--health-check-path");
  });

  it("waits for the proxy's task on this node, then runs the deploy in it", () => {
    const r = fake(`${proxyTask}\n  "exec c1 kamal-proxy deploy "*) echo deployed ;;`)(...g);
    expect(r.code, r.err).toBe(0);
    expect(r.argv.filter((a) => a === task)).toHaveLength(2);
    expect(r.argv.at(-1)).toBe(`exec c1 ${g.slice(5).join(" ")}`);
    expect(r.out).toContain("swarm-node: the proxy routes to the service api");
  });

  it("a failed health check prints the API service's last log lines and fails, naming it", () => {
    const r = fake(
      `${proxyTask}\n  "exec c1 "*) exit 1 ;;\n  "service logs --tail 50 --no-task-ids api") echo "Traceback: boom" ;;`,
    )(...g);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "swarm-node: the service api did not become healthy; the proxy keeps its old route",
    );
    expect(r.err).toContain("Traceback: boom");
  });

  it("fails after its timeout when the proxy has no task on this node", () => {
    const r = fake(`  "${task}") ;;`)("gate", "1", ...g.slice(2));
    expect(r.code).toBe(1);
    expect(r.err).toContain("swarm-node: no task of service proxy runs on this node after 1s");
    expect(r.argv.some((a) => a.startsWith("exec"))).toBe(false);
  });

  it.each([
    [
      ["gate", "60", "proxy", "api", "50"],
      "gate: takes PROXY, TARGET, LOG_LINES and the kamal-proxy command (got 3 arguments)",
    ],
    [
      ["gate", "60", "-x", "api", "50", "kamal-proxy"],
      "PROXY: should be a Swarm service name such as proxy (got '-x')",
    ],
    [
      ["gate", "60", "proxy", "a b", "50", "kamal-proxy"],
      "TARGET: should be a Swarm service name such as api (got 'a b')",
    ],
    [
      ["gate", "60", "proxy", "api", "many", "kamal-proxy"],
      "LOG_LINES: should be a whole number (got 'many')",
    ],
    [
      ["gate", "soon", "proxy", "api", "50", "kamal-proxy"],
      "TIMEOUT_S: should be a whole number of seconds (got 'soon')",
    ],
  ])("refuses %j", (args, why) => {
    const r = fake(`  "${task}") echo c1 ;;`)(...args);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`swarm-node: ${why}`);
    expect(r.argv.some((a) => a.startsWith("exec"))).toBe(false);
  });
});
