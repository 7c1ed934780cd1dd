# shellcheck shell=bash
# Sourced (not run) by the engine's smoke tests (tools/engine/smoke.sh,
# tools/engine/provider-docker/smoke.sh), which define say and die first: a TypeScript Pulumi
# project in a temporary directory, the engine from a bin directory, a file:// backend, and a
# step runner.

# smoke_bin_dir BIN_DIR TOOL...: prints BIN_DIR as an absolute path; dies unless it holds every TOOL.
smoke_bin_dir() {
  local bin tool
  bin="$(cd "$1" && pwd)" || die "no directory $1"
  shift
  for tool in "$@"; do
    [ -x "$bin/$tool" ] || die "$bin/$tool is missing; run tools/engine/build.sh"
  done
  printf '%s\n' "$bin"
}

# smoke_project BIN_DIR REPO WORK NAME PASSPHRASE: makes WORK/project a Pulumi project NAME (runtime
# nodejs with TypeScript, REPO's node_modules; the caller writes index.ts), sets
#   project  WORK/project
#   log      WORK/pulumi.log, the output of the last step
# and exports what the Pulumi CLI needs: BIN_DIR first on PATH, PULUMI_HOME in WORK, no update
# check, the passphrase, no plugin downloads.
smoke_project() {
  local bin="$1" repo="$2" work="$3" name="$4" passphrase="$5"
  project="$work/project"
  log="$work/pulumi.log"
  mkdir -p "$project" "$work/home" "$work/backend"
  export PATH="$bin:$PATH"
  export PULUMI_HOME="$work/home"
  export PULUMI_SKIP_UPDATE_CHECK=1
  export PULUMI_CONFIG_PASSPHRASE="$passphrase"
  # Never fetch a plugin: everything the program needs is in $bin.
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

  cat >"$project/Pulumi.yaml" <<YAML
name: $name
runtime:
  name: nodejs
  options:
    typescript: true
YAML
  cat >"$project/package.json" <<JSON
{ "name": "$name", "private": true, "main": "index.ts" }
JSON
  cat >"$project/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "commonjs", "moduleResolution": "node",
    "strict": true, "esModuleInterop": true, "skipLibCheck": true, "types": ["node"]
  },
  "files": ["index.ts"]
}
JSON
  ln -s "$repo/node_modules" "$project/node_modules"
}

# step ARGS...: `pulumi --non-interactive ARGS...` in the project; its output goes to $log and is
# shown only if it fails (then the test dies).
step() {
  local start=$SECONDS
  say "pulumi $*"
  if ! (cd "$project" && pulumi --non-interactive "$@") >"$log" 2>&1; then
    cat "$log" >&2
    die "pulumi $* exited non-zero"
  fi
  say "  ok ($((SECONDS - start))s)"
}

# smoke_stack WORK: logs in to the file:// backend WORK/backend and creates the stack `dev`.
smoke_stack() {
  step login "file://$1/backend"
  step stack init dev
}

expect_eq() { [ "$2" = "$3" ] || die "$1: expected '$3', got '$2'"; }
