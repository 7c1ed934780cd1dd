#!/usr/bin/env bash
# Capacity report of one stack for a pull request: plans the PR (after) and its base branch (before)
# offline with `npm run plan`, and writes the markdown report to OUT_DIR/plan.md.
#
#   capacity-report.sh <stack> <base-sha> <out-dir>
#
# Never fails because the plan is not deployable: the report must be posted either way. It writes
# `deployable=true|false` to $GITHUB_OUTPUT (when set) and the workflow fails the job afterwards.
# "before" is best effort: a base without the planner, without Pulumi.<stack>.yaml, or whose plan does
# not produce a usable JSON document gives a report without a before column.
set -euo pipefail

stack=${1:?usage: capacity-report.sh <stack> <base-sha> <out-dir>}
base_sha=${2:?usage: capacity-report.sh <stack> <base-sha> <out-dir>}
out=${3:?usage: capacity-report.sh <stack> <base-sha> <out-dir>}
case "$stack" in *[!a-zA-Z0-9_.-]*|'') echo "capacity-report: bad stack name" >&2; exit 2 ;; esac
case "$base_sha" in *[!0-9a-f]*|'') echo "capacity-report: base must be a commit sha" >&2; exit 2 ;; esac

head_dir=$(pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
base_dir=$(mktemp -d)
cleanup() {
  git -C "$head_dir" worktree remove --force "$base_dir/tree" >/dev/null 2>&1 || true
  rm -rf "$base_dir"
}
trap cleanup EXIT

# after: the PR as it would merge. Every exit code (1 not deployable, 2 refused configuration) still
# prints one JSON document.
npm run --silent plan -- --stack "$stack" --json >"$out/after.json" 2>"$out/after.err" || true

# before: the base commit in a separate worktree, planned with its own code and its own stack file.
before_args=()
# The workflow checks out with full history; a shallow clone fetches the one commit it needs.
if { git -C "$head_dir" cat-file -e "$base_sha^{commit}" 2>/dev/null \
  || git -C "$head_dir" fetch --quiet --no-tags --depth=1 origin "$base_sha" 2>/dev/null; } \
  && git -C "$head_dir" worktree add --quiet --detach "$base_dir/tree" "$base_sha" 2>/dev/null; then
  (
    cd "$base_dir/tree"
    [ -f "Pulumi.$stack.yaml" ] || exit 0
    grep -q '"plan"' package.json 2>/dev/null || exit 0
    # Same lockfile: reuse the installed packages instead of a second `npm ci`.
    if cmp -s package-lock.json "$head_dir/package-lock.json"; then
      ln -s "$head_dir/node_modules" node_modules
    else
      npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || exit 0
    fi
    npm run --silent plan -- --stack "$stack" --json >"$out/before.json" 2>/dev/null || true
  )
fi
# Keep "before" if it is a plan document: a plan with services, or a refused base's errors (the report
# then says why there is nothing to compare). Anything else would be refused by --before (exit 2).
if [ -s "$out/before.json" ] \
  && node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(typeof j.stack==="string"&&(Array.isArray(j.services)||Array.isArray(j.errors))?0:1)' "$out/before.json" 2>/dev/null; then
  before_args=(--before "$out/before.json")
else
  rm -f "$out/before.json"
fi

status=0
npm run --silent plan -- --stack "$stack" --markdown "${before_args[@]}" >"$out/plan.md" 2>"$out/plan.err" || status=$?
if [ ! -s "$out/plan.md" ]; then
  # The configuration itself was refused (the planner prints its errors on stderr only).
  {
    # shellcheck disable=SC2016 # the backticks are markdown, not a command substitution
    printf '### app-infra plan: `%s` — ❌ not deployable\n\n' "$stack"
    printf '```\n'
    cat "$out/plan.err"
    printf '```\n'
  } >"$out/plan.md"
  [ "$status" -ne 0 ] || status=1
fi

deployable=false
[ "$status" -eq 0 ] && deployable=true
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "deployable=$deployable" >>"$GITHUB_OUTPUT"
fi
echo "capacity report for $stack written to $out/plan.md (deployable: $deployable)"
