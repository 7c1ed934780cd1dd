#!/usr/bin/env bash
# Smoke test of the engine that build.sh builds: a real `pulumi preview / up / refresh / destroy`
# of a tiny TypeScript program (a ComponentResource, a dynamic resource that writes a file, a config
# value, a secret, outputs), on a local file:// backend, plus a program error that must fail `up`.
#
#   tools/engine/smoke.sh "$(tools/engine/build.sh | tail -1)"
#
# Needs the repository's node_modules (npm ci): the program uses that @pulumi/pulumi. When it may
# (root, unshare and ip present), it runs in a fresh network namespace that has only loopback, which
# proves no step reaches the network; APP_INFRA_SMOKE_NETNS=off skips that.
set -euo pipefail

say() { printf 'smoke: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
# shellcheck source-path=SCRIPTDIR source=smoke-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke-lib.sh"

[ $# -eq 1 ] || die "usage: $0 BIN_DIR (the last line printed by tools/engine/build.sh)"
bin="$(smoke_bin_dir "$1" pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
[ -f "$repo/node_modules/@pulumi/pulumi/package.json" ] || die "no @pulumi/pulumi in $repo/node_modules; run npm ci"

if [ "${APP_INFRA_SMOKE_NETNS:-auto}" != off ] && [ -z "${APP_INFRA_SMOKE_IN_NETNS:-}" ]; then
  if command -v ip >/dev/null && unshare --net true 2>/dev/null; then
    say "running in a network namespace with loopback only"
    export APP_INFRA_SMOKE_IN_NETNS=1
    # shellcheck disable=SC2016  # $0/$@ are expanded by the inner bash
    exec unshare --net -- bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
  fi
  say "cannot create a network namespace here; running with the host network"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/files"
smoke_project "$bin" "$repo" "$work" engine-smoke smoke-passphrase
cat >"$project/index.ts" <<'EOF'
import * as pulumi from "@pulumi/pulumi";

interface TextFileInputs {
    path: string;
    content: string;
}

// A dynamic provider: the real engine drives create/read/diff/delete through the
// pulumi-resource-pulumi-nodejs plugin, so refresh and destroy have something real to do.
const textFileProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: TextFileInputs) {
        require("fs").writeFileSync(inputs.path, inputs.content);
        return { id: inputs.path, outs: inputs };
    },
    async read(id: string, props: TextFileInputs) {
        const content = require("fs").readFileSync(id, "utf8");
        return { id, props: { ...props, content } };
    },
    async diff(_id: string, olds: TextFileInputs, news: TextFileInputs) {
        return { changes: olds.content !== news.content, replaces: olds.path !== news.path ? ["path"] : [] };
    },
    async update(id: string, _olds: TextFileInputs, news: TextFileInputs) {
        require("fs").writeFileSync(id, news.content);
        return { outs: news };
    },
    async delete(id: string) {
        require("fs").rmSync(id, { force: true });
    },
};

class TextFile extends pulumi.dynamic.Resource {
    declare public readonly content: pulumi.Output<string>;
    constructor(name: string, args: { path: pulumi.Input<string>; content: pulumi.Input<string> },
                opts?: pulumi.CustomResourceOptions) {
        super(textFileProvider, name, { ...args }, opts);
    }
}

class Greeter extends pulumi.ComponentResource {
    public readonly message: pulumi.Output<string>;
    public readonly fileContent: pulumi.Output<string>;
    constructor(name: string, args: { greeting: string; path: string }, opts?: pulumi.ComponentResourceOptions) {
        super("smoke:index:Greeter", name, {}, opts);
        const file = new TextFile(`${name}-file`, { path: args.path, content: args.greeting }, { parent: this });
        this.message = pulumi.interpolate`${args.greeting}, from ${name}`;
        this.fileContent = file.content;
        this.registerOutputs({ message: this.message, fileContent: this.fileContent });
    }
}

const config = new pulumi.Config();
if (config.getBoolean("fail")) {
    throw new Error("smoke: deliberate program failure");
}
const token = config.requireSecret("token");
const greeter = new Greeter("greeter", { greeting: config.require("greeting"), path: config.require("path") });

export const message = greeter.message;
export const fileContent = greeter.fileContent;
export const tokenLength = token.apply((t) => t.length);
export const secretToken = token;
EOF

output() { (cd "$project" && pulumi --non-interactive stack output "$@"); }
# The dynamic resource's `content` as recorded in the state (refresh updates the state, not the
# stack outputs).
state_content() {
  (cd "$project" && pulumi --non-interactive stack export) | node -e '
    const deployment = JSON.parse(require("fs").readFileSync(0, "utf8")).deployment;
    const file = deployment.resources.find((r) => r.urn.endsWith("::greeter-file"));
    process.stdout.write(String(file && file.outputs.content));'
}

secret="s3cr3t-$RANDOM$RANDOM"
target="$work/files/greeting.txt"

smoke_stack "$work"
step config set greeting "hello"
step config set path "$target"
say "pulumi config set --secret token (value from stdin)"
(cd "$project" && printf '%s' "$secret" | pulumi --non-interactive config set --secret token) >"$log" 2>&1 ||
  { cat "$log" >&2; die "pulumi config set --secret token exited non-zero"; }
step preview
[ ! -e "$target" ] || die "preview created $target"
step up --yes
expect_eq "file written by up" "$(cat "$target")" "hello"
expect_eq "output message" "$(output message)" "hello, from greeter"
# Derived from a secret, so secret too: hidden unless asked for.
expect_eq "output tokenLength" "$(output tokenLength)" "[secret]"
expect_eq "output tokenLength" "$(output --show-secrets tokenLength)" "${#secret}"
expect_eq "secret output" "$(output --show-secrets secretToken)" "$secret"
if grep -rqF "$secret" "$work/backend"; then die "the secret is stored in plain text in the state"; fi

# Drift: change the file behind Pulumi's back; refresh must read it, the next up must restore it.
echo "drifted" >"$target"
step refresh --yes
expect_eq "file content in the state after refresh" "$(state_content)" "drifted"
step up --yes
expect_eq "file after up" "$(cat "$target")" "hello"
step refresh --yes --run-program
step preview --expect-no-changes

# A failing program must fail `up` with its message, and must not touch the resources.
step config set fail true
say "pulumi up --yes (must fail)"
if (cd "$project" && pulumi --non-interactive up --yes) >"$log" 2>&1; then
  cat "$log" >&2
  die "up of a failing program succeeded"
fi
grep -qF "smoke: deliberate program failure" "$log" || { cat "$log" >&2; die "up failed without the program's message"; }
say "  ok (failed with the program's message)"
[ -f "$target" ] || die "the failed up deleted $target"
step config rm fail
step preview --expect-no-changes

step destroy --yes --run-program
[ ! -e "$target" ] || die "destroy left $target"
step stack rm --yes dev
say "all steps passed"
