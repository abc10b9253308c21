#!/usr/bin/env bash
# Mutation testing of the reference provider's hub, policy and receiver code
# with cargo-mutants, the default suites as the test: every mutant is built,
# then `mimi-interop run` on the two builtin providers (through the
# integration test that checks the default run is conformant) must fail.
# A mutant the run still calls conformant survives. See docs/coverage.md
# ("cargo-mutants").
#
# Usage: scripts/mutants.sh [FILE ...] [-- cargo-mutants options]
#   default files: the list below; e.g. scripts/mutants.sh src/reference/server/policy.rs
#   batches: scripts/mutants.sh -- --shard 0/4   (then 1/4, 2/4, 3/4: k counts from 0)
#
# cargo-mutants copies the tree (without target/) and builds there, so the
# checkout is never edited; the first build in the copy is a cold one.
# Needs cargo-mutants (cargo install --locked cargo-mutants). Results go to
# mutants.out/ (outcomes.json, caught.txt, missed.txt, timeout.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do files+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
if [ ${#files[@]} -eq 0 ]; then
  files=(
    src/reference/server/hub.rs
    src/reference/server/policy.rs
    src/reference/room/rules.rs
    src/reference/room/roles.rs
    src/reference/room/update.rs
    src/reference/client/timeline.rs
    src/reference/client/receipts.rs
  )
fi
if ! cargo mutants --version >/dev/null 2>&1; then
  echo "cargo-mutants not found; install it: cargo install --locked cargo-mutants" >&2
  exit 2
fi
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
export CARGO_INCREMENTAL=1
exec cargo mutants "${args[@]}" --no-shuffle \
  --minimum-test-timeout 120 "$@" \
  -- --test it -- --exact cli::default_run_passes_every_case_in_all_four_cells_and_writes_reports
