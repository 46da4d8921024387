#!/usr/bin/env bash
# Sets everything up and runs the whole test suite on SpatiaLite and PostGIS:
#   bash scripts/test.sh            (extra arguments go to pytest, e.g. -k summary)
# PostgreSQL's Debian cluster is started if it is not running, and stopped again if this script
# started it. Tests reach it over TCP on 127.0.0.1 with a password role.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

PG_VERSION=15
started_pg=0
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
  pg_ctlcluster "$PG_VERSION" main start
  started_pg=1
fi
cleanup() { if ((started_pg)); then pg_ctlcluster "$PG_VERSION" main stop || true; fi; }
trap cleanup EXIT
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
runuser -u postgres -- psql -qAt -h /var/run/postgresql -c \
  "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='registry_ci') THEN
     CREATE ROLE registry_ci LOGIN SUPERUSER PASSWORD 'registry_ci'; END IF; END\$\$" >/dev/null

export TEST_PG_ADMIN_URL="postgresql+psycopg://registry_ci:registry_ci@127.0.0.1:5432/postgres"
export SPATIALITE_LIBRARY_PATH=mod_spatialite
.venv/bin/python -m pytest "$@"
