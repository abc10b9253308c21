#!/usr/bin/env bash
# The run step of the GitHub Action (action.yml) and the GitLab template
# (ci/gitlab-ci.yml): turns MIMI_* inputs into a `mimi-interop run`, writes
# the step's outputs, and exits with the run's exit code.
#
# Inputs (all optional):
#   MIMI_INTEROP_BIN   the binary (default: mimi-interop on PATH)
#   MIMI_TARGETS       targets file; two builtin reference providers when empty
#   MIMI_SUITES        suites file or directory
#   MIMI_FEATURES      feature ids, separated by spaces or commas
#   MIMI_TESTS         test globs, separated by spaces or commas
#   MIMI_EXPECTATIONS  known outcomes (docs/ci.md): gate on unexpected results only
#   MIMI_SHARD         I/N: this job's share of a sharded matrix
#   MIMI_REPORTS       where reports go (default: mimi-interop-reports)
#   MIMI_SUMMARY       a file for the Markdown summary (GITHUB_STEP_SUMMARY is used when set)
#   MIMI_ARGS          further arguments, split on spaces
# Outputs, as `name=value` lines appended to $GITHUB_OUTPUT when it is set:
#   exit-code, reports (the run's report directory), report-json, junit
set -uo pipefail
set -f # globs in MIMI_TESTS are for the harness, not the shell

bin="${MIMI_INTEROP_BIN:-mimi-interop}"
reports="${MIMI_REPORTS:-mimi-interop-reports}"
args=(run --reports "$reports")

[[ -n "${MIMI_TARGETS:-}" ]] && args+=(--targets "$MIMI_TARGETS")
[[ -n "${MIMI_SUITES:-}" ]] && args+=(--suites "$MIMI_SUITES")
[[ -n "${MIMI_EXPECTATIONS:-}" ]] && args+=(--expectations "$MIMI_EXPECTATIONS")
[[ -n "${MIMI_SHARD:-}" ]] && args+=(--shard "$MIMI_SHARD")
[[ -n "${MIMI_SUMMARY:-}" ]] && args+=(--summary "$MIMI_SUMMARY")
features="${MIMI_FEATURES:-}"
tests="${MIMI_TESTS:-}"
for f in ${features//,/ }; do args+=(--feature "$f"); done
for t in ${tests//,/ }; do args+=(--test "$t"); done
# shellcheck disable=SC2206 # splitting on spaces is the documented form
[[ -n "${MIMI_ARGS:-}" ]] && args+=(${MIMI_ARGS})

echo "+ $bin ${args[*]}"
"$bin" "${args[@]}"
code=$?

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$code"
    echo "reports=$reports/latest"
    echo "report-json=$reports/latest/report.json"
    echo "junit=$reports/latest/junit.xml"
  } >>"$GITHUB_OUTPUT"
fi
exit "$code"
