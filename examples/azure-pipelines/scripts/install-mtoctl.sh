#!/usr/bin/env bash
# Installs a pinned mtoctl release on an Azure Pipelines agent: the static Linux binary
# mtoctl-VERSION-x86_64-unknown-linux-musl.tar.gz of the release vVERSION, checked against a
# SHA-256 before it runs (MTOCTL_SHA256 when the pipeline pins one, else the release's own
# .sha256 file), then put on PATH for the job's later steps. No Rust toolchain, nothing compiled.
#
# Environment: MTOCTL_VERSION (0.1.0), MTOCTL_RELEASES (…/releases/download), MTOCTL_SHA256
# (optional), AGENT_TEMPDIRECTORY.
set -euo pipefail

fail() {
  echo "##vso[task.logissue type=error]mtoctl install: $*"
  exit 1
}

version="${MTOCTL_VERSION:?set the variable mtoctlVersion (e.g. 0.1.0)}"
version="${version#v}"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+-]*$ ]] || fail "mtoctlVersion '$MTOCTL_VERSION' is not a version number"
[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
  fail "mtoctl releases a static binary for Linux x64 only; use an ubuntu-latest agent"
releases="${MTOCTL_RELEASES:?set the variable mtoctlReleases}"
asset="mtoctl-${version}-x86_64-unknown-linux-musl.tar.gz"
url="${releases%/}/v${version}/${asset}"
work="$(mktemp -d "${AGENT_TEMPDIRECTORY:-/tmp}/mtoctl-install.XXXXXX")"
fetch() { curl --fail --silent --show-error --location --retry 3 --proto '=https' -o "$2" "$1"; }

echo "downloading $url"
fetch "$url" "$work/$asset" || fail "cannot download $url"
expected="${MTOCTL_SHA256:-}"
if [[ -z "$expected" ]]; then
  fetch "$url.sha256" "$work/$asset.sha256" || fail "cannot download $url.sha256"
  read -r expected _ <"$work/$asset.sha256" || true
fi
expected="$(tr 'A-F' 'a-f' <<<"$expected")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "the expected SHA-256 of $asset is not a SHA-256: '$expected'"
read -r actual _ < <(sha256sum "$work/$asset")
[[ "$actual" == "$expected" ]] || fail "$asset has SHA-256 $actual, expected $expected: not installing it"
echo "SHA-256 verified: $actual"

mkdir "$work/x" "$work/bin"
tar -xzf "$work/$asset" -C "$work/x"
found="$(find "$work/x" -type f -name mtoctl -print -quit)"
[[ -n "$found" ]] || fail "$asset holds no file named mtoctl"
mv "$found" "$work/bin/mtoctl"
chmod 0755 "$work/bin/mtoctl"
reported="$("$work/bin/mtoctl" --version)" || fail "the downloaded mtoctl does not run on this agent"
[[ "$reported" == *" $version"* ]] || fail "the release v$version holds '$reported'"
echo "$reported"
echo "##vso[task.prependpath]$work/bin"
