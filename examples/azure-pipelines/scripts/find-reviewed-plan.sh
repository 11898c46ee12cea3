#!/usr/bin/env bash
# Finds the plan reviewed for the commit being built on main: the pull request whose
# completion made this commit, then the newest successful run of the PR pipeline
# (mtoctl-pr.yml, definition PLAN_PIPELINE_ID) on that pull request's last source commit, and
# its artifact mtoctl-plan. Sets the output variable `runId` (empty when there is none: a
# direct push, a manual run, a plan that failed or expired), so that the next step downloads
# it or the pipeline plans again for approval. Azure DevOps REST API 7.1, System.AccessToken.
#
# Environment: SYSTEM_ACCESSTOKEN, SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID,
# BUILD_REPOSITORY_ID, BUILD_SOURCEVERSION, BUILD_REASON, PLAN_PIPELINE_ID.
set -euo pipefail

token="${SYSTEM_ACCESSTOKEN:?map System.AccessToken into the env of the step}"
project="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECTID:?}"
sha="${BUILD_SOURCEVERSION:?}"
definition="${PLAN_PIPELINE_ID:-}"

result() { echo "##vso[task.setvariable variable=runId;isOutput=true]$1"; }
missing() {
  echo "no reviewed plan: $1; planning again for approval"
  result ""
  exit 0
}
call() { # METHOD URL [JSON-BODY]
  local args=(--fail-with-body --silent --show-error --retry 3 -X "$1"
    -H "Authorization: Bearer $token" -H "Content-Type: application/json")
  [[ $# -lt 3 ]] || args+=(--data "$3")
  curl "${args[@]}" "$2"
}

[[ "$definition" =~ ^[1-9][0-9]*$ ]] ||
  { echo "##vso[task.logissue type=error]set the variable planPipelineId to the definition id of the mtoctl-pr pipeline"; exit 1; }
case "${BUILD_REASON:-}" in
  IndividualCI | BatchedCI) ;;
  *) missing "this run was not triggered by a merge (${BUILD_REASON:-unknown reason})" ;;
esac

# The pull request whose completion created this commit (merge, squash, rebase or semi-linear).
query="$(jq -n --arg sha "$sha" '{queries: [{type: "lastMergeCommit", items: [$sha]}]}')"
prs="$(call POST "$project/_apis/git/repositories/${BUILD_REPOSITORY_ID:?}/pullrequestquery?api-version=7.1" "$query")"
read -r pr head < <(jq -r --arg sha "$sha" \
  '(.results[0][$sha] // [])[0] // {} | "\(.pullRequestId // "") \(.lastMergeSourceCommit.commitId // "")"' <<<"$prs")
[[ -n "${pr:-}" ]] || missing "$sha was pushed without a pull request"
[[ "${head:-}" =~ ^[0-9a-f]{40}$ ]] || missing "pull request $pr has no last source commit"

# The newest successful PR-pipeline run on exactly that source commit.
builds="$(call GET "$project/_apis/build/builds?definitions=$definition&reasonFilter=pullRequest&branchName=refs/pull/$pr/merge&statusFilter=completed&resultFilter=succeeded&queryOrder=finishTimeDescending&\$top=50&api-version=7.1")"
run="$(jq -r --arg head "$head" \
  '[.value[] | select(.triggerInfo["pr.sourceSha"] == $head) | .id] | first // empty' <<<"$builds")"
[[ -n "$run" ]] || missing "no successful plan of pull request $pr at $head"
call GET "$project/_apis/build/builds/$run/artifacts?artifactName=mtoctl-plan&api-version=7.1" >/dev/null ||
  missing "run $run of pull request $pr has no artifact mtoctl-plan (expired?)"
echo "the plan reviewed on pull request $pr: artifact mtoctl-plan of run $run"
result "$run"
