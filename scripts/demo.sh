#!/usr/bin/env bash
# Sets everything up and serves the registry on the embedded SpatiaLite default with demo data:
#   bash scripts/demo.sh            then open http://127.0.0.1:5000/
# PORT=8080 bash scripts/demo.sh    to use another port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
unset REGISTRY_DATABASE_URL  # the embedded default: instance/registry.sqlite
.venv/bin/registry db upgrade
.venv/bin/registry demo --if-empty
exec .venv/bin/registry serve --port "${PORT:-5000}"
