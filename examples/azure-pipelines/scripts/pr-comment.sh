#!/usr/bin/env bash
# Puts the Markdown plan on the pull request as ONE comment thread, edited in place by later
# runs: the thread whose first comment starts with the hidden marker <!-- mtoctl-plan: SPEC -->
# gets its comment replaced (PATCH); a new thread is made (POST) only when none has it.
# Azure DevOps REST API 7.1, as the pipeline's identity (System.AccessToken): the project's
# build service needs "Contribute to pull requests" on the repository.
#
# Environment: PLAN_MD (the plan's Markdown), SPEC, SYSTEM_ACCESSTOKEN, SYSTEM_COLLECTIONURI,
# SYSTEM_TEAMPROJECTID, BUILD_REPOSITORY_ID, SYSTEM_PULLREQUEST_PULLREQUESTID, BUILD_BUILDID.
set -euo pipefail

fail() {
  echo "##vso[task.logissue type=error]plan comment: $*"
  exit 1
}

token="${SYSTEM_ACCESSTOKEN:?map System.AccessToken into the env of the step}"
pr="${SYSTEM_PULLREQUEST_PULLREQUESTID:-}"
[[ "$pr" =~ ^[0-9]+$ ]] || fail "not a pull-request build (run this pipeline as the branch policy's build validation)"
[[ -s "${PLAN_MD:-}" ]] || fail "no plan Markdown at '${PLAN_MD:-}'"
spec="${SPEC:?}"
marker="<!-- mtoctl-plan: ${spec//--/-} -->"
api="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECTID:?}/_apis/git/repositories/${BUILD_REPOSITORY_ID:?}/pullRequests/$pr"
run="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECTID}/_build/results?buildId=${BUILD_BUILDID:-}"

body="$(mktemp)"
{
  printf '%s\n' "$marker"
  cat "$PLAN_MD"
  printf '\n<sub>mtoctl plan -f %s · [run](%s) · saved plan: artifact mtoctl-plan</sub>\n' "$spec" "$run"
} >"$body"

call() { # METHOD URL [JSON-BODY-FILE]
  local args=(--fail-with-body --silent --show-error --retry 3 -X "$1"
    -H "Authorization: Bearer $token" -H "Content-Type: application/json")
  [[ $# -lt 3 ]] || args+=(--data-binary "@$3")
  curl "${args[@]}" "$2"
}

threads="$(call GET "$api/threads?api-version=7.1")" ||
  fail "cannot read the threads of pull request $pr (does the build service have 'Contribute to pull requests'?)"
found="$(jq -r --arg m "$marker" '
  [.value[] | select(.isDeleted != true)
   | select((.comments[0].content // "") | startswith($m))
   | "\(.id) \(.comments[0].id)"] | first // empty' <<<"$threads")"

request="$(mktemp)"
if [[ -n "$found" ]]; then
  read -r thread comment <<<"$found"
  jq -n --rawfile c "$body" '{content: $c}' >"$request"
  call PATCH "$api/threads/$thread/comments/$comment?api-version=7.1" "$request" >/dev/null ||
    fail "cannot edit comment $comment of thread $thread on pull request $pr"
  echo "edited the plan comment (thread $thread)"
else
  # Active, like a reviewer's comment; with the policy "check for comment resolution" a
  # reviewer resolves it once the plan is read.
  jq -n --rawfile c "$body" '{comments: [{parentCommentId: 0, content: $c, commentType: 1}], status: 1}' >"$request"
  call POST "$api/threads?api-version=7.1" "$request" >/dev/null ||
    fail "cannot comment on pull request $pr (does the build service have 'Contribute to pull requests'?)"
  echo "posted the plan comment"
fi
rm -f "$body" "$request"
