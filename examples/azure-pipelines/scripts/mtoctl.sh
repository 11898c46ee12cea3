#!/usr/bin/env bash
# Runs one mtoctl command in an Azure Pipelines step and turns its exit code into the output
# variables `outcome`, `code` and `changes` of the step, a Markdown summary on the run's page
# (the plan, or the report), and the step's result.
#
#   mtoctl.sh plan OUTDIR          plan.json, plan.md, plan.txt in OUTDIR; outcome changes | no-changes
#   mtoctl.sh apply PLANFILE       apply the saved plan; outcome applied | waiting | stale
#   mtoctl.sh status OUTDIR        status.txt in OUTDIR; outcome healthy | waiting | broken
#
# A stale plan (exit 5: what it touches changed since it was planned; nothing was changed) ends
# the step "succeeded with issues" when STALE_OK=true, so the pipeline can plan again for
# approval; otherwise it fails the step like any other error. Findings of `status` and drift
# in `plan` fail nothing when REPORT_ONLY=true (the drift pipeline reports them).
#
# Environment: SPEC (the spec file), STALE_OK, REPORT_ONLY.
set -euo pipefail

command="${1:?usage: mtoctl.sh plan|apply|status ARG}"
arg="${2:?usage: mtoctl.sh plan|apply|status ARG}"
spec="${SPEC:?set the variable spec (e.g. mto/mto.yaml)}"
export MTOCTL_COLOR=never

output() { echo "##vso[task.setvariable variable=$1;isOutput=true]$2"; }
summary() { echo "##vso[task.uploadsummary]$1"; }

set +e
case "$command" in
  plan)
    mkdir -p "$arg"
    # stdout to the file, stderr to the log and to a file (for a report when the plan fails).
    mtoctl plan -f "$spec" --detailed-exitcode --format markdown --out "$arg/plan.json" \
      2>&1 >"$arg/plan.md" | tee "$arg/stderr.txt" >&2
    code="${PIPESTATUS[0]}"
    cat "$arg/plan.md"
    # The plan as text (the drift work item), or why there is none.
    if [[ -s "$arg/plan.json" ]]; then mtoctl show "$arg/plan.json" >"$arg/plan.txt"; else cp "$arg/stderr.txt" "$arg/plan.txt"; fi
    ;;
  apply)
    report="$(mktemp --suffix=.md)"
    {
      echo "### mtoctl apply of the saved plan"
      echo
      mtoctl show "$arg" --format markdown
    } >"$report"
    mtoctl apply -f "$spec" "$arg"
    code=$?
    ;;
  status)
    mkdir -p "$arg"
    mtoctl status -f "$spec" 2>&1 >"$arg/status.txt" | tee "$arg/stderr.txt" >&2
    code="${PIPESTATUS[0]}"
    [[ -s "$arg/status.txt" ]] || cp "$arg/stderr.txt" "$arg/status.txt"
    cat "$arg/status.txt"
    ;;
  *)
    echo "usage: mtoctl.sh plan|apply|status ARG" >&2
    exit 2
    ;;
esac
set -e

case "$command:$code" in
  plan:0) outcome=no-changes ;;
  plan:2) outcome=changes ;;
  apply:0) outcome=applied ;;
  apply:3) outcome=waiting ;;
  apply:5) outcome=stale ;;
  status:0) outcome=healthy ;;
  status:3) outcome=waiting ;;
  status:4) outcome=broken ;;
  *) outcome=error ;;
esac
output code "$code"
output outcome "$outcome"
output changes "$([[ "$command:$code" == plan:2 ]] && echo true || echo false)"
echo "mtoctl $command: $outcome (exit $code)"

case "$command" in
  plan) [[ ! -s "$arg/plan.md" ]] || summary "$arg/plan.md" ;;
  apply) summary "$report" ;;
  status)
    {
      printf '### mtoctl status: %s\n\n```text\n' "$outcome"
      head -c 200000 "$arg/status.txt"
      printf '\n```\n'
    } >"$arg/status.md"
    summary "$arg/status.md"
    ;;
esac

case "$outcome" in
  error) exit 1 ;;
  stale)
    if [[ "${STALE_OK:-false}" == true ]]; then
      echo "##vso[task.logissue type=warning]the saved plan is stale: nothing was changed; planning again for approval"
      echo "##vso[task.complete result=SucceededWithIssues;]stale plan"
      exit 0
    fi
    exit 1
    ;;
  broken) [[ "${REPORT_ONLY:-false}" == true ]] || exit 1 ;;
esac
