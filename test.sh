#!/usr/bin/env bash
# Builds the solution and runs every test project. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Mekong.slnx -c Release -warnaserror
dotnet test Mekong.slnx -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee /tmp/mekong-test.log
# A short smoke of the benchmarks keeps them building and running.
dotnet run -c Release --no-build --project bench -- pass --nodes 64 --gpus-per-node 8 --projects 12 --pending 400 --running 300 --repeat 3 --json
