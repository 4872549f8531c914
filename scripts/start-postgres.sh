#!/usr/bin/env bash
# Installs (if needed) and starts a local PostgreSQL for the store's tests, creates the role and
# database mekong_test, and prints the connection string as the last line of its output.
# Idempotent: safe to run again while the server is up. Must run as root (Debian's pg_ctlcluster).
# The tests read MEKONG_TEST_POSTGRES, or fall back to the string printed here.
set -euo pipefail

ROLE=mekong_test
DB=mekong_test
PASSWORD=${MEKONG_TEST_POSTGRES_PASSWORD:-mekong_test}
PORT=5432

if [ "$(id -u)" -ne 0 ]; then
  echo "start-postgres.sh: run as root (it installs packages and starts the cluster)" >&2
  exit 1
fi

# 1. Install: apt-get update only when the package is not already installable from the lists here.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show postgresql >/dev/null 2>&1; then
    apt-get update -qq >&2
  fi
  apt-get install -y -qq postgresql >&2
fi

# 2. The version installed decides the cluster's name (Debian 12 ships 15).
VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$VERSION" main >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $3 }')

# 3. Start it unless it is already online.
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $4 }' | grep -q online; then
  pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 30); do
  if su postgres -c "psql -p $PORT -tAc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done

# 4. Role (with a password; CREATEDB so tests may make throwaway databases) and database.
su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -q" >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL
if ! su postgres -c "psql -p $PORT -tAc \"select 1 from pg_database where datname = '$DB'\"" | grep -q 1; then
  su postgres -c "createdb -p $PORT -O $ROLE $DB" >&2
fi

echo "Host=127.0.0.1;Port=$PORT;Database=$DB;Username=$ROLE;Password=$PASSWORD"
