#!/usr/bin/env bash
# The Action's main step: runs one mtoctl command (plan, apply, status or doctor) and turns
# what it printed and its exit code into step outputs, the job summary, the pull-request
# comment's body (plan) and the plan artifact's files. mtoctl's exit code never fails this
# step: it sets the output failed=true and the Action's last step fails, after the comment and
# the artifact, because a plan's errors belong in the comment.
#
# Environment: MTOCTL (the binary), INPUT_* (the Action's inputs), HEAD_SHA (the reviewed
# commit), and the runner's GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_SERVER_URL,
# GITHUB_REPOSITORY, GITHUB_RUN_ID. tests/action.rs runs it against the emulator.
# shellcheck disable=SC2016 # backticks in single quotes are Markdown, not command substitution
set -euo pipefail

fail() {
  echo "::error title=mtoctl::$*" >&2
  exit 1
}
output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside GitHub Actions}"; }
yes() { [[ "${1,,}" == "true" ]]; }

mtoctl="${MTOCTL:?MTOCTL is not set: the install step names the binary}"
command="${INPUT_COMMAND:-plan}"
case "$command" in
  plan | apply | status | doctor) ;;
  *) fail "command: '$command' is not one of plan, apply, status, doctor" ;;
esac
spec="${INPUT_SPEC:-}"
[[ -n "$spec" ]] || fail "give the spec file (spec: mto/mto.yaml)"
[[ -f "$spec" ]] || fail "spec: no file '$spec' in $(pwd)"
work="$(mktemp -d "${RUNNER_TEMP:-/tmp}/mtoctl-${command}.XXXXXX")"
read -r -a extra <<<"${INPUT_ARGS:-}"
sha="${HEAD_SHA:-${GITHUB_SHA:-}}"

plan_file=""
markdown=""
case "$command" in
  plan)
    plan_file="${INPUT_PLAN_FILE:-$work/plan.json}"
    mkdir -p "$(dirname "$plan_file")"
    # Beside the plan, so that the artifact holds both at its root.
    markdown="${plan_file%.json}.md"
    argv=(plan -f "$spec" --detailed-exitcode --format markdown --out "$plan_file")
    ;;
  apply)
    argv=(apply -f "$spec")
    if [[ -n "${INPUT_PLAN_FILE:-}" ]]; then
      plan_file="$INPUT_PLAN_FILE"
      [[ -f "$plan_file" ]] || fail "plan-file: no saved plan at '$plan_file'"
      argv+=("$plan_file")
      markdown="$work/plan.md"
      # What is about to be applied, for the summary (offline; a plan it cannot read, apply
      # refuses below with the reason).
      "$mtoctl" show "$plan_file" --format markdown --color never >"$markdown" 2>/dev/null || : >"$markdown"
    elif yes "${INPUT_AUTO_APPROVE:-false}"; then
      argv+=(--auto-approve)
    else
      fail "apply needs the saved plan that was reviewed (plan-file), or auto-approve: 'true' to apply a fresh plan nobody reviewed"
    fi
    if yes "${INPUT_ALLOW_DESTROY:-false}"; then argv+=(--allow-destroy); fi
    ;;
  status | doctor)
    argv=("$command" -f "$spec")
    ;;
esac
argv+=("${extra[@]}" --color never)

# stdout to a file, stderr to the log as it comes (apply's progress) and to a file.
echo "mtoctl ${argv[*]}"
set +e
"$mtoctl" "${argv[@]}" 2>&1 >"$work/stdout" | tee "$work/stderr" >&2
code="${PIPESTATUS[0]}"
set -e
cat "$work/stdout"

case "$command:$code" in
  plan:0) outcome=no-changes ;;
  plan:2) outcome=changes ;;
  apply:0) outcome=applied ;;
  apply:3) outcome=waiting ;;
  apply:5) outcome=stale ;;
  apply:130) outcome=interrupted ;;
  status:0) outcome=healthy ;;
  status:3) outcome=waiting ;;
  status:4) outcome=broken ;;
  doctor:0) outcome=ready ;;
  doctor:3) outcome=fixable ;;
  doctor:4) outcome=blocked ;;
  *) outcome=error ;;
esac
case "$command:$outcome" in
  *:error | apply:stale | apply:interrupted | status:broken | doctor:fixable | doctor:blocked) failing=true ;;
  *) failing=false ;;
esac

artifact="${INPUT_ARTIFACT_NAME:-mtoctl-plan-${sha:-local}}"
artifact="${artifact//[^A-Za-z0-9._-]/-}"
plan_saved=false
if [[ "$command" == plan ]]; then
  # The Markdown plan is printed even for a plan with errors (exit 1), so they can be read.
  cp "$work/stdout" "$markdown"
  if [[ "$outcome" != error && -s "$plan_file" ]]; then plan_saved=true; fi
fi
if [[ -n "$markdown" && ! -s "$markdown" ]]; then markdown=""; fi

# A code block whose fence no line of the text can close.
block() {
  local fence='```'
  while grep -qF -- "$fence" "$1"; do fence="$fence\`"; done
  printf '%stext\n' "$fence"
  # The job summary takes at most 1 MiB per step.
  head -c 900000 "$1"
  [[ $(wc -c <"$1") -le 900000 ]] || printf '\n… (cut; the whole text is in the log)\n'
  [[ -z "$(tail -c 1 "$1")" ]] || printf '\n'
  printf '%s\n' "$fence"
}

# What to say about a run, in Markdown: the job summary, and the pull-request comment.
summary="$work/summary.md"
{
  if [[ "$command" == plan && -n "$markdown" ]]; then
    # mtoctl's Markdown has its own headline (errors included, for a plan that has some).
    cat "$markdown"
  elif [[ "$outcome" == error ]]; then
    printf '### mtoctl %s failed (exit %s)\n\n' "$command" "$code"
    tail -n 60 "$work/stderr" >"$work/stderr.tail"
    block "$work/stderr.tail"
    if [[ -s "$work/stdout" ]]; then block "$work/stdout"; fi
  else
    printf '### mtoctl %s: %s (exit %s)\n\n' "$command" "$outcome" "$code"
    case "$outcome" in
      stale) printf '%s\n\n' "The saved plan is out of date: something it touches changed since it was planned, or the spec or the mtoctl version differs. **Nothing was changed.** Plan again and have the new plan reviewed." ;;
      waiting) [[ "$command" != apply ]] || printf '%s\n\n' "Applied what could be applied; Graph is still working (a tenant joining can take hours). Work left for later shows in the next plan." ;;
      interrupted) printf '%s\n\n' "Interrupted while applying; running the same apply again finishes the work." ;;
    esac
    if [[ -s "$work/stdout" ]]; then
      block "$work/stdout"
    elif [[ -s "$work/stderr" ]]; then
      # A refused plan says why only on stderr (the objects that changed, for a stale one).
      tail -n 60 "$work/stderr" >"$work/stderr.tail"
      block "$work/stderr.tail"
    fi
    if [[ -n "$markdown" ]]; then
      printf '\n<details><summary>The saved plan</summary>\n\n'
      cat "$markdown"
      printf '\n</details>\n'
    fi
  fi
  run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
  printf '\n<sub>`mtoctl %s -f %s` at %s · [run](%s)' "$command" "$spec" "${sha:0:12}" "$run_url"
  if [[ "$plan_saved" == true ]]; then printf ' · saved plan: artifact `%s`' "$artifact"; fi
  printf '</sub>\n'
} >"$summary"

if yes "${INPUT_SUMMARY:-true}" && [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi

# The comment names its spec in a hidden marker, so each run finds and edits its own.
comment=""
if [[ "$command" == plan ]]; then
  key="$spec"
  [[ "${INPUT_WORKING_DIRECTORY:-.}" == "." ]] || key="${INPUT_WORKING_DIRECTORY%/}/$spec"
  key="${key#./}"
  while [[ "$key" == *--* ]]; do key="${key//--/-}"; done
  marker="<!-- mtoctl-plan: $key -->"
  comment="$work/comment.md"
  { printf '%s\n' "$marker"; cat "$summary"; } >"$comment"
  # GitHub refuses comments over 65,536 characters; mtoctl's Markdown already fills that
  # when a plan is huge, so keep its headline and notes and point at the summary instead.
  if [[ $(wc -c <"$comment") -gt 65000 ]]; then
    {
      printf '%s\n' "$marker"
      sed '/^<details>/,$d' "$summary" | head -c 50000
      printf '\n_The plan is too long for a comment: read it in the [job summary](%s), or `mtoctl show` the saved plan._\n' "$run_url"
    } >"$comment"
  fi
  output marker "$marker"
  output comment-file "$comment"
fi

output exit-code "$code"
output outcome "$outcome"
output changes "$([[ "$command:$code" == plan:2 ]] && echo true || echo false)"
output stale "$([[ "$outcome" == stale ]] && echo true || echo false)"
output plan-file "$plan_file"
output markdown-file "$markdown"
output report-file "$work/stdout"
output summary-file "$summary"
output artifact-name "$artifact"
output plan-saved "$plan_saved"
output failed "$([[ "$failing" == true ]] && yes "${INPUT_FAIL_ON_OUTCOME:-true}" && echo true || echo false)"
echo "mtoctl $command: $outcome (exit $code)"
