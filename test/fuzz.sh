#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a bounded time each.
# Targets are found by grepping for `func FuzzXxx(` in test files, so a new
# one is fuzzed without touching this script. Each target first replays its
# committed corpus (testdata/fuzz/FuzzXxx) and seeds, then fuzzes.
#
#   FUZZTIME=10s   time per target (default 10s; e.g. FUZZTIME=5m for a long run)
#   FUZZ_PARALLEL  fuzzing workers per target (default: go's, GOMAXPROCS)
#   FUZZ_MATCH     only targets whose name matches this extended regexp
#
# A finding fails the run; Go writes the failing input under the package's
# testdata/fuzz/FuzzXxx/, where it becomes a regression seed once committed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then parallel=(-parallel "$FUZZ_PARALLEL"); fi

targets=$(git ls-files --cached --others --exclude-standard '*_test.go' |
  xargs grep -HoE '^func Fuzz[A-Za-z0-9_]+\(' |
  sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#./\1 \2#' |
  grep -E " ${FUZZ_MATCH:-.}" | sort -u || true)
if [ -z "$targets" ]; then echo "no fuzz targets found" >&2; exit 1; fi

# only_the_deadline LOG CORPUS_BEFORE CORPUS_DIR succeeds when a failed run's
# one error is Go's own "context deadline exceeded" and no input was written.
# Go 1.26's fuzzing coordinator returns that error, by a race, when
# -fuzztime ends (golang/go#75804, fixed in Go 1.27): it checks the workers'
# child context before the deadline has reached it. Any other error, a
# finding included, replaces it (internal/fuzz/fuzz.go, stop), and a finding
# is written under testdata/fuzz, so a run that reports only the deadline and
# wrote nothing found nothing.
only_the_deadline() {
  local body
  body=$(sed -n '/^--- FAIL: /,/^FAIL$/p' "$1" | sed '1d;$d')
  [ "$body" = "    context deadline exceeded" ] &&
    ! grep -q 'Failing input written' "$1" &&
    [ "$2" = "$(ls "$3" 2>/dev/null)" ]
}

failed=()
cut=0
count=0
start=$SECONDS
while read -r pkg name; do
  count=$((count + 1))
  echo "== $name ($pkg, $fuzztime)"
  log=$(mktemp)
  corpus="$pkg/testdata/fuzz/$name"
  before=$(ls "$corpus" 2>/dev/null || true)
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel[@]}" "$pkg" 2>&1 | tee "$log"; then
    if only_the_deadline "$log" "$before" "$corpus"; then
      echo "== $name: stopped at -fuzztime with Go's deadline race (golang/go#75804); nothing found"
      cut=$((cut + 1))
    else
      failed+=("$name ($pkg)")
    fi
  fi
  rm -f "$log"
done <<<"$targets"

echo "== fuzzed $count targets in $((SECONDS - start))s ($cut stopped by the deadline race)"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzzing found a failure in %s\n' "${failed[@]}" >&2
  exit 1
fi
