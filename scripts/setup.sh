#!/usr/bin/env bash
# Installs everything the registry needs on Debian 12, as root: system packages (SpatiaLite, PostgreSQL
# with PostGIS, GDAL tools, Chromium and CJK fonts for the browser tests and charts, LibreOffice Calc to
# check that our workbooks open in an office suite), then a virtualenv built on
# Debian's python3 (its sqlite3 can load extensions; a pyenv python usually cannot).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-venv libsqlite3-mod-spatialite postgresql postgresql-15-postgis-3 gdal-bin
              chromium fonts-noto-cjk)
LEAN_PACKAGES=(libreoffice-calc)  # without its recommends (Java, the desktop integration)
missing=()
lean=()
for p in "${LEAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || lean+=("$p")
done
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} + ${#lean[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing system packages: ${missing[*]} ${lean[*]} - run this script as root (or: sudo apt-get install ${missing[*]} ${lean[*]})" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]} ${lean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ((${#missing[@]})); then apt-get install -y -q "${missing[@]}" >/dev/null; fi
  if ((${#lean[@]})); then apt-get install -y -q --no-install-recommends "${lean[@]}" >/dev/null; fi
fi

if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension' 2>/dev/null; then
  rm -rf .venv
  /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
echo "setup done: $(.venv/bin/python --version), $(.venv/bin/registry --help >/dev/null && echo 'registry command ready')"
