#!/usr/bin/env bash
# Runs the README's two set-up commands (between `setup:begin` and `setup:end`) in a fresh clone
# of this repository, as a newcomer would, then checks with `status` that the organization works.
# The one substitution: the clone URL becomes this repository's path (the machine is offline).
#
# Run from the repository root: `bash tests/readme-setup.sh`. CI runs it after the test suite;
# CARGO_TARGET_DIR (default: this repository's target/) lets the clone reuse compiled dependencies.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

commands="$(awk '/<!-- setup:begin/{on=1; next} /<!-- setup:end/{on=0} on' "$repo/README.md" \
  | grep -v '^```')"
count="$(printf '%s\n' "$commands" | grep -c .)"
if [ "$count" -ne 2 ]; then
  echo "readme-setup: expected two commands between setup:begin and setup:end in README.md, found $count" >&2
  exit 1
fi
clone="$(printf '%s\n' "$commands" | sed -n 1p)"
main_job="$(printf '%s\n' "$commands" | sed -n 2p)"
case "$clone" in
  "git clone "*) ;;
  *) echo "readme-setup: the first set-up command should clone the repository: $clone" >&2; exit 1 ;;
esac
url="$(printf '%s\n' "$clone" | awk '{print $3}')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "==> ${clone/$url/$repo}"
eval "${clone/$url/$repo}"
echo "==> $main_job"
eval "$main_job"
echo "==> checking that the organization works"
cargo run --locked --quiet -- status --emulator -f examples/quickstart/mto.yaml
echo "==> the README's set-up commands work in a fresh clone"
