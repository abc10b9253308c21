#!/usr/bin/env bash
# Measures how the run scales with the number of builtin reference
# providers: every ordered pair is a cell, so N providers run N² cells of
# every suite. Prints wall time, peak RSS and cases per N. See
# docs/performance.md ("Scaling with the number of providers").
#
# Usage: scripts/bench-scaling.sh [N ...]     (default: 2 4 8)
#
# Needs GNU time at /usr/bin/time (apt-get install -y time).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(2 4 8)
for n in "${sizes[@]}"; do
  case "$n" in ''|*[!0-9]*|0|1) echo "N must be an integer >= 2, got '$n'" >&2; exit 2 ;; esac
done
if ! /usr/bin/time -v true >/dev/null 2>&1; then
  echo "GNU time not found at /usr/bin/time; install it (apt-get install -y time)" >&2
  exit 2
fi

cargo build --release --bin mimi-interop
bin=target/release/mimi-interop
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

printf '%-4s %-6s %10s %12s %8s  %s\n' N exit "wall (s)" "peak (MiB)" cases "ms per case"
for n in "${sizes[@]}"; do
  targets="$tmp/targets-$n.yaml"
  { echo "targets:"; for i in $(seq 1 "$n"); do printf '  - name: p%d\n    builtin: {}\n' "$i"; done; } >"$targets"
  set +e
  /usr/bin/time -v -o "$tmp/time-$n.txt" "$bin" run --targets "$targets" --reports "$tmp/reports-$n" \
    >"$tmp/stdout-$n.txt" 2>"$tmp/stderr-$n.txt"
  code=$?
  set -e
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time-$n.txt")
  secs=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time-$n.txt")
  # "mimi-interop: 412 passed, 0 failed, 16 unsupported, 6 skipped"
  cases=$(grep -E '^mimi-interop: ' "$tmp/stdout-$n.txt" | tail -n1 | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s }')
  printf '%-4s %-6s %10s %12.1f %8s  %.1f\n' "$n" "$code" "$secs" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" \
    "$cases" "$(awk -v s="$secs" -v c="$cases" 'BEGIN { print s * 1000 / c }')"
  if [ "$code" -ne 0 ]; then tail -n 5 "$tmp/stdout-$n.txt"; fi
done
echo "($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
