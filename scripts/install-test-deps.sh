#!/usr/bin/env bash
# Installs what the interop tests (tests/Mekong.Proto.Tests/Interop) need: real gRPC clients nobody
# here wrote. Idempotent: packages already present are not fetched again, and the package index is
# refreshed at most once per run (and only when something is missing).
#   Debian: python3-grpcio, python3-protobuf (the Python client, run with /usr/bin/python3),
#           protobuf-compiler, protobuf-compiler-grpc (protoc and grpc_python_plugin for the stubs),
#           libprotobuf-dev (the well-known .proto files protoc imports), nodejs/npm if absent.
#   npm:    @grpc/grpc-js and @grpc/proto-loader from the lock file, with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

packages=(python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc libprotobuf-dev)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-test-deps: Debian packages already installed"
fi

node_dir=tests/Mekong.Proto.Tests/interop/node
lock="$node_dir/package-lock.json"
stamp="$node_dir/node_modules/.package-lock.json"
# npm writes node_modules/.package-lock.json after an install: newer than the lock means up to date.
if [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ] \
   && [ -d "$node_dir/node_modules/@grpc/grpc-js" ] && [ -d "$node_dir/node_modules/@grpc/proto-loader" ]; then
  echo "install-test-deps: node modules already installed"
else
  echo "install-test-deps: npm ci in $node_dir"
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi

# Fail here, clearly, rather than in the tests.
/usr/bin/python3 -c "import grpc, google.protobuf; print('install-test-deps: grpcio', grpc.__version__)"
protoc --version
command -v grpc_python_plugin >/dev/null
test -f /usr/include/google/protobuf/timestamp.proto
node -e "require('./$node_dir/node_modules/@grpc/grpc-js'); require('./$node_dir/node_modules/@grpc/proto-loader'); console.log('install-test-deps: node grpc-js ok')"
