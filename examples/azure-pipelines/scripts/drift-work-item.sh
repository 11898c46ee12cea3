#!/usr/bin/env bash
# The drift pipeline's report: when the nightly plan found drift or status found a problem,
# ONE open work item tagged `mtoctl-drift` holds the plan and the status report (created the
# first night, its description replaced each night after); the first clean night closes it.
# Azure DevOps REST API 7.1, as the pipeline's identity: the project's build service needs
# "View work items in this node" and "Edit work items in this node" on the area path.
#
# Environment: PLAN_OUTCOME (no-changes | changes | error), STATUS_OUTCOME (healthy | waiting |
# broken | error), PLAN_TEXT and STATUS_TEXT (the reports), WORK_ITEM_TYPE (Issue),
# CLOSED_STATE (Done, or Closed in the Agile process), SPEC, SYSTEM_ACCESSTOKEN,
# SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID, BUILD_BUILDID.
set -euo pipefail

token="${SYSTEM_ACCESSTOKEN:?map System.AccessToken into the env of the step}"
project="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECTID:?}"
type="${WORK_ITEM_TYPE:-Issue}"
closed="${CLOSED_STATE:-Done}"
tag=mtoctl-drift
run="$project/_build/results?buildId=${BUILD_BUILDID:-}"

call() { # METHOD URL CONTENT-TYPE [BODY-FILE]
  local args=(--fail-with-body --silent --show-error --retry 3 -X "$1"
    -H "Authorization: Bearer $token" -H "Content-Type: $3")
  [[ $# -lt 4 ]] || args+=(--data-binary "@$4")
  curl "${args[@]}" "$2"
}
patch() { # ID|"" JSON-PATCH-FILE: updates the work item, or creates one
  if [[ -n "$1" ]]; then
    call PATCH "$project/_apis/wit/workitems/$1?api-version=7.1" application/json-patch+json "$2"
  else
    call POST "$project/_apis/wit/workitems/\$$type?api-version=7.1" application/json-patch+json "$2"
  fi
}
# Text as HTML (work item descriptions are HTML), at most 100,000 characters of it.
pre() {
  printf '<pre>'
  head -c 100000 "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'
  [[ $(wc -c <"$1") -le 100000 ]] || printf '\n… (cut: the whole report is in the run)'
  printf '</pre>'
}

wiql="$(mktemp)"
[[ "$closed" =~ ^[A-Za-z\ ]+$ ]] || { echo "##vso[task.logissue type=error]driftClosedState '$closed' is not a state name"; exit 1; }
query="SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS '$tag' AND [System.State] NOT IN ('$closed', 'Closed', 'Done', 'Removed') ORDER BY [System.Id]"
jq -n --arg q "$query" '{query: $q}' >"$wiql"
open="$(call POST "$project/_apis/wit/wiql?api-version=7.1" application/json "$wiql" | jq -r '.workItems[0].id // empty')"

request="$(mktemp)"
# `waiting` is Graph still at work (a join, a first sync cycle), not drift.
if [[ "${PLAN_OUTCOME:?}" == no-changes && ( "${STATUS_OUTCOME:?}" == healthy || "$STATUS_OUTCOME" == waiting ) ]]; then
  if [[ -n "$open" ]]; then
    jq -n --arg state "$closed" --arg note "Clean again: the tenants match the spec and nothing is broken (<a href=\"$run\">run</a>)." \
      '[{op: "add", path: "/fields/System.State", value: $state}, {op: "add", path: "/fields/System.History", value: $note}]' >"$request"
    patch "$open" "$request" >/dev/null
    echo "closed work item $open"
  fi
  echo "no drift, nothing broken"
  exit 0
fi

html="$(mktemp)"
{
  printf '<p>mtoctl'"'"'s nightly check found the tenants differ from <code>%s</code> (plan: <b>%s</b>) or the organization has a problem (status: <b>%s</b>). Apply the spec through a reviewed pull request, or change the spec to what the tenants hold; this work item closes itself on the first clean night. <a href="%s">The run</a> has the full reports.</p>' \
    "${SPEC:-the spec}" "$PLAN_OUTCOME" "$STATUS_OUTCOME" "$run"
  printf '<h3>mtoctl plan: %s</h3>' "$PLAN_OUTCOME"
  pre "${PLAN_TEXT:?}"
  printf '<h3>mtoctl status: %s</h3>' "$STATUS_OUTCOME"
  pre "${STATUS_TEXT:?}"
} >"$html"
jq -n --rawfile html "$html" --arg tag "$tag" --arg note "Updated by the drift check (<a href=\"$run\">run</a>)." \
  '[{op: "add", path: "/fields/System.Title", value: "mtoctl: the tenants drifted from the spec or a sync is broken"},
    {op: "add", path: "/fields/System.Description", value: $html},
    {op: "add", path: "/fields/System.Tags", value: $tag},
    {op: "add", path: "/fields/System.History", value: $note}]' >"$request"
id="$(patch "$open" "$request" | jq -r .id)"
echo "work item $id holds the drift report"
rm -f "$wiql" "$request" "$html"
