#!/usr/bin/env bash
# The Action's first step: puts an mtoctl binary in place and names it in the step output
# `mtoctl`. Either the binary given as `mtoctl-path`, or the static Linux release asset
# mtoctl-VERSION-x86_64-unknown-linux-musl.tar.gz of the release vVERSION (docs/install.md),
# downloaded and checked against a SHA-256 before anything in it runs.
#
# Environment: INPUT_VERSION, INPUT_SHA256, INPUT_REPOSITORY, INPUT_MTOCTL_PATH (the Action's
# inputs), and the runner's GITHUB_OUTPUT, GITHUB_PATH, GITHUB_SERVER_URL, RUNNER_TEMP,
# RUNNER_OS, RUNNER_ARCH, GITHUB_ACTION_PATH.
set -euo pipefail

fail() {
  echo "::error title=mtoctl install::$*" >&2
  exit 1
}
output() { echo "$1=$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside GitHub Actions}"; }

if [[ -n "${INPUT_MTOCTL_PATH:-}" ]]; then
  [[ -f "$INPUT_MTOCTL_PATH" && -x "$INPUT_MTOCTL_PATH" ]] ||
    fail "mtoctl-path: '$INPUT_MTOCTL_PATH' is not an executable file"
  bin="$(cd "$(dirname "$INPUT_MTOCTL_PATH")" && pwd)/$(basename "$INPUT_MTOCTL_PATH")"
  "$bin" --version
  output mtoctl "$bin"
  exit 0
fi

version="${INPUT_VERSION:-}"
version="${version#v}"
[[ -n "$version" ]] ||
  fail "give the mtoctl release to install (version: 0.1.0), or a binary (mtoctl-path)"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+-]*$ ]] || fail "version: '$INPUT_VERSION' is not a version number"

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  *) fail "mtoctl releases a static binary for Linux x64 only; this runner is ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}: use a Linux x64 runner, or give mtoctl-path" ;;
esac

# Where the releases are. `github.action_repository` is not promised inside composite actions,
# so when neither the input nor the variable says, it is read from the Action's checkout path
# (…/_actions/OWNER/REPO/REF).
repo="${INPUT_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
if [[ -z "$repo" && "${GITHUB_ACTION_PATH:-}" =~ /_actions/([^/]+)/([^/]+)/[^/]+/?$ ]]; then
  repo="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
fi
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
  fail "cannot tell which repository's releases hold mtoctl ('$repo'): set the input repository: OWNER/REPO"

asset="mtoctl-${version}-${target}.tar.gz"
url="${GITHUB_SERVER_URL:-https://github.com}/${repo}/releases/download/v${version}/${asset}"
work="$(mktemp -d "${RUNNER_TEMP:-/tmp}/mtoctl-install.XXXXXX")"
fetch() { curl --fail --silent --show-error --location --retry 3 --proto '=https,file' -o "$2" "$1"; }

echo "downloading $url"
fetch "$url" "$work/$asset" || fail "cannot download $url (is there a release v$version with the asset $asset?)"
expected="${INPUT_SHA256:-}"
if [[ -z "$expected" ]]; then
  fetch "$url.sha256" "$work/$asset.sha256" || fail "cannot download $url.sha256 to check the archive"
  read -r expected _ <"$work/$asset.sha256" || true
fi
expected="$(tr 'A-F' 'a-f' <<<"$expected")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "the expected SHA-256 of $asset is not a SHA-256: '$expected'"
read -r actual _ < <(sha256sum "$work/$asset")
[[ "$actual" == "$expected" ]] ||
  fail "$asset has SHA-256 $actual, expected $expected: not installing it (a corrupt download, or an asset replaced since it was pinned)"
echo "SHA-256 verified: $actual"

mkdir "$work/x"
tar -xzf "$work/$asset" -C "$work/x"
found="$(find "$work/x" -type f -name mtoctl -print -quit)"
[[ -n "$found" ]] || fail "$asset holds no file named mtoctl"
dest="$work/bin"
mkdir "$dest"
mv "$found" "$dest/mtoctl"
chmod 0755 "$dest/mtoctl"
rm -rf "${work:?}/x" "${work:?}/$asset"

reported="$("$dest/mtoctl" --version)" || fail "the downloaded mtoctl does not run on this runner"
[[ "$reported" == *" $version"* ]] || fail "the release v$version holds '$reported', not mtoctl $version"
echo "$reported"
echo "$dest" >>"${GITHUB_PATH:-/dev/null}"
output mtoctl "$dest/mtoctl"
