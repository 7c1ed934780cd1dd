#!/usr/bin/env bash
# Creates or updates ONE comment on a pull request, found by a hidden marker on its first line, so a
# new push edits the report instead of adding another comment.
#
#   pr-comment.sh <marker-key> <body-file>      e.g. pr-comment.sh app-infra-plan:dev plan.md
#
# Needs GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY and PR_NUMBER in the environment.
set -euo pipefail

key=${1:?usage: pr-comment.sh <marker-key> <body-file>}
body_file=${2:?usage: pr-comment.sh <marker-key> <body-file>}
: "${GITHUB_REPOSITORY:?}" "${PR_NUMBER:?}" "${GH_TOKEN:?}"
case "$key" in *[!a-zA-Z0-9:_.-]*|'') echo "pr-comment: bad marker key" >&2; exit 2 ;; esac
case "$PR_NUMBER" in *[!0-9]*|'') echo "pr-comment: PR_NUMBER must be a number" >&2; exit 2 ;; esac

marker="<!-- $key -->"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
  printf '%s\n' "$marker"
  cat "$body_file"
} >"$body"

# Only our own comments (the Actions bot) are candidates: a reviewer quoting the marker is left alone.
# All ids first, then the oldest: `| head -n 1` could kill gh mid-page and fail under pipefail.
# 100 a page (the maximum; the default is 30): fewer requests on a long PR.
ids=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments?per_page=100" \
  --jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"$marker\"))) | .id")
id=${ids%%$'\n'*}

if [ -n "$id" ]; then
  gh api --silent --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$body"
  echo "updated comment $id"
else
  gh api --silent --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body"
  echo "created a comment"
fi
