#!/usr/bin/env bash
# Measures the default run (`mimi-interop run`: every suite under suites/,
# the two builtin reference providers) in release: wall time and peak RSS
# over several runs, then prints a summary. See docs/performance.md.
#
# Usage: scripts/bench-default-run.sh [RUNS]     (default 5; or BENCH_RUNS=N)
#
# Needs GNU time at /usr/bin/time (`time -v` reports "Maximum resident set
# size"). On Debian/Ubuntu: `apt-get install -y time`. The script does not
# install it for you.
set -euo pipefail

runs="${1:-${BENCH_RUNS:-5}}"
case "$runs" in
  ''|*[!0-9]*|0) echo "RUNS must be a positive integer, got '$runs'" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

if ! /usr/bin/time -v true >/dev/null 2>&1; then
  echo "GNU time not found at /usr/bin/time; install it (apt-get install -y time)" >&2
  exit 2
fi

cargo build --release --bin mimi-interop
bin=target/release/mimi-interop
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

walls=()
rss=()
for i in $(seq 1 "$runs"); do
  out="$tmp/run-$i"
  mkdir -p "$out"
  # The exit code is the run's verdict (0 conformant); record it, keep going.
  set +e
  /usr/bin/time -v -o "$out/time.txt" "$bin" run --reports "$out/reports" >"$out/stdout.txt" 2>"$out/stderr.txt"
  code=$?
  set -e
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time.txt")
  # h:mm:ss or m:ss.ss -> seconds
  secs=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
  cases=$(grep -Eo '[0-9]+ cases?' "$out/stdout.txt" | head -n1 || true)
  printf 'run %d: exit %d, wall %6.2f s, peak RSS %6.1f MiB %s\n' \
    "$i" "$code" "$secs" "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')" "${cases:+($cases)}"
  if [ "$code" -ne 0 ]; then
    echo "  (non-zero exit: see the summary below)"; tail -n 20 "$out/stdout.txt" "$out/stderr.txt"
  fi
  walls+=("$secs")
  rss+=("$kb")
done

summary() { # label unit divisor values...
  local label=$1 unit=$2 div=$3; shift 3
  printf '%s\n' "$@" | sort -n | awk -v l="$label" -v u="$unit" -v d="$div" '
    { v[NR] = $1 / d; s += $1 / d }
    END { printf "%-14s min %8.2f  median %8.2f  max %8.2f  mean %8.2f %s\n", l, v[1], v[int((NR + 1) / 2)], v[NR], s / NR, u }'
}
echo
echo "default run, $runs runs ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)):"
summary "wall time" s 1 "${walls[@]}"
summary "peak RSS" MiB 1024 "${rss[@]}"
