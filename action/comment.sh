#!/usr/bin/env bash
# The Action's pull-request comment: ONE comment per pull request and spec, edited in place by
# later runs. The comment starts with a hidden marker naming the spec (<!-- mtoctl-plan: SPEC
# -->); the comment that starts with it is edited (PATCH), and a new one is posted (POST) only
# when none does. The only step that talks to GitHub's API, through `gh api` (GH_TOKEN).
#
# Environment: GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, COMMENT_FILE (the body, written by
# run.sh), MARKER (its first line), GITHUB_OUTPUT (comment-url).
set -euo pipefail

fail() {
  echo "::error title=mtoctl comment::$*" >&2
  exit 1
}

repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
pr="${PR_NUMBER:?PR_NUMBER is not set: comment only on pull requests}"
body="${COMMENT_FILE:?COMMENT_FILE is not set}"
marker="${MARKER:?MARKER is not set}"
[[ "$pr" =~ ^[0-9]+$ ]] || fail "PR_NUMBER '$pr' is not a pull-request number"
[[ -s "$body" ]] || fail "no comment body at '$body'"
[[ "$(head -n 1 "$body")" == "$marker" ]] || fail "the comment body does not start with its marker"

# The marker as a JSON string inside the jq filter (a spec path may hold quotes).
quoted="${marker//\\/\\\\}"
quoted="\"${quoted//\"/\\\"}\""
# All comments, page by page; a quote of the comment by someone else starts with "> ".
ids="$(gh api --paginate "repos/$repo/issues/$pr/comments?per_page=100" \
  --jq ".[] | select(.body | startswith($quoted)) | .id")" ||
  fail "cannot list the comments of pull request #$pr in $repo (does the token have pull-requests: write?)"
id="${ids%%$'\n'*}"

if [[ -n "$id" ]]; then
  url="$(gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" --jq .html_url)" ||
    fail "cannot edit comment $id on pull request #$pr in $repo"
  echo "edited the plan comment: $url"
else
  url="$(gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --jq .html_url)" ||
    fail "cannot comment on pull request #$pr in $repo (does the token have pull-requests: write?)"
  echo "posted the plan comment: $url"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "comment-url=$url" >>"$GITHUB_OUTPUT"; fi
