#!/usr/bin/env bash
# Builds the solution and runs every test project, then a short smoke of the benchmarks.
# CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")"

# Interop tests call the API from Python's grpcio and Node's @grpc/grpc-js: installed here if missing.
scripts/install-test-deps.sh

# The store's tests run on SQLite and on a real PostgreSQL, which this script installs and starts (as root).
MEKONG_TEST_POSTGRES="${MEKONG_TEST_POSTGRES:-$(scripts/start-postgres.sh | tail -1)}"
export MEKONG_TEST_POSTGRES

dotnet build Mekong.slnx -c Release -warnaserror

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Mekong.slnx -c Release --no-build 2>&1 | tee "$log" || status=$?

# The benchmarks keep building and running: a small pass benchmark, a short submission load and a few lifecycles.
dotnet run -c Release --no-build --project bench -- pass --nodes 64 --gpus-per-node 8 --projects 12 --pending 400 --running 300 --repeat 3 --json
# Decide() must make the decisions a full pass makes: the same events, decided both ways, give the same plans.
plans=$(mktemp -d)
small=(--nodes 256 --gpus-per-node 8 --projects 40 --pending 3000 --running 1500 --repeat 3 --events 1000 --event-warmup 0)
dotnet run -c Release --no-build --project bench -- pass "${small[@]}" --plans-out "$plans/decide" > /dev/null
dotnet run -c Release --no-build --project bench -- pass "${small[@]}" --events-by-full-pass --plans-out "$plans/full" > /dev/null
if cmp "$plans/decide" "$plans/full"; then echo "bench events: Decide() and full passes made the same 1,000 plans"
else echo "bench events: Decide() and full passes decided differently"; status=1; fi
rm -rf "$plans"
dotnet run -c Release --no-build --project bench -- submit-load --jobs 2000 --concurrency 16 --json
dotnet run -c Release --no-build --project bench -- lifecycle --agents 8 --jobs 200 --start-samples 10 --json

# One closing line for the whole suite.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
