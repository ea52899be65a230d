#!/usr/bin/env bash
# Measures github.com/go-actions/actions side by side with its peers:
# correctness checks first, then COUNT interleaved passes of one test binary
# (each pass runs every peer once, at each GOMAXPROCS of CPUS), then
# benchstat tables and ratios to the direct-call baseline.
#
#   ./run.sh                              # 6 passes, -cpu 1,2, 500ms each
#   ROOT=1 ./run.sh                       # also the library's own benchmarks, same passes
#   BENCH='Invoke/scenario=chain1/' COUNT=10 BENCHTIME=1s ./run.sh
#
# Writes results/: raw.txt (go test output), benchstat.txt (medians ± 95%
# CI), ratios.txt and ratios.md (per group: ×direct, ×procs=1, B/op,
# allocs/op, churns/op) and env.txt (machine, toolchain, module versions).
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

COUNT=${COUNT:-6}
CPUS=${CPUS:-1,2}
BENCHTIME=${BENCHTIME:-500ms}
BENCH=${BENCH:-.}
ROOT=${ROOT:-0}                      # 1: also run the library's benchmarks (in ..)
ROOT_BENCH=${ROOT_BENCH:-Invoke}     # which of them
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da   # golang.org/x/perf, pinned

out=results
mkdir -p "$out/bin"
if [ ! -x "$out/bin/benchstat" ]; then
  echo "== installing benchstat (golang.org/x/perf $BENCHSTAT_VERSION) into $out/bin" >&2
  GOBIN="$PWD/$out/bin" go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION"
fi

{
  date -u +%Y-%m-%dT%H:%MZ
  go version
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  echo "passes: $COUNT, -cpu $CPUS, -benchtime $BENCHTIME, -bench '$BENCH'"
  echo "modules:"
  go list -deps -test -f '{{with .Module}}{{.Path}} {{.Version}}{{with .Replace}} => {{.Path}}{{end}}{{end}}' . | sort -u
  (cd .. && git log -1 --format='library commit: %H%n%s' 2>/dev/null) || true
} > "$out/env.txt"

echo "== correctness (go vet, go test -race)" >&2
go vet ./...
go test -race -count=1 ./...

echo "== building test binaries" >&2
go test -c -o "$out/bin/peers.test" .
if [ "$ROOT" = 1 ]; then
  (cd .. && go test -c -o "benchmarks/$out/bin/actions.test" .)
fi

# Running the binaries COUNT times (-count 1 each) rather than once with
# -count COUNT interleaves the samples of every peer in time, so drift on a
# shared machine spreads over all of them instead of biasing one.
: > "$out/raw.txt"
start=$SECONDS
for i in $(seq "$COUNT"); do
  echo "-- pass $i/$COUNT ($((SECONDS - start))s)" >&2
  # Churn skips itself at GOMAXPROCS=1; testing prints that as a NaN row.
  "$out/bin/peers.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.count 1 \
    -test.cpu "$CPUS" -test.benchtime "$BENCHTIME" -test.timeout 60m | grep -v 'NaN ns/op' >> "$out/raw.txt"
  if [ "$ROOT" = 1 ]; then
    (cd .. && "benchmarks/$out/bin/actions.test" -test.run '^$' -test.bench "$ROOT_BENCH" -test.benchmem \
      -test.count 1 -test.cpu "$CPUS" -test.benchtime "$BENCHTIME" -test.timeout 60m) |
      grep -v 'NaN ns/op' >> "$out/raw.txt"
  fi
done
echo "== benchmarks took $((SECONDS - start))s" >&2

"$out/bin/benchstat" -row .fullname -col /gomaxprocs "$out/raw.txt" > "$out/benchstat.txt"
"$out/bin/benchstat" -format csv "$out/raw.txt" 2>/dev/null > "$out/benchstat.csv"
go run ./cmd/ratios -md "$out/benchstat.csv" > "$out/ratios.md"
go run ./cmd/ratios "$out/benchstat.csv" | tee "$out/ratios.txt"
echo
echo "medians ± 95% CI: $out/benchstat.txt; ratios: $out/ratios.txt, $out/ratios.md; machine: $out/env.txt"
