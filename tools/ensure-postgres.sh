#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed: the P&L store's tests
# start a throwaway server from them (python/tests/store/conftest.py). Installs the `postgresql` package with apt
# when they are missing; a no-op otherwise. Needs root (or sudo) only when it has to install.
# The installed package's own cluster is not used; Debian may start it as a service, which does no harm.
set -euo pipefail

have_server() {
  local dir
  if [ -n "${FLASHARB_PG_BIN:-}" ] && [ -x "$FLASHARB_PG_BIN/initdb" ] && [ -x "$FLASHARB_PG_BIN/pg_ctl" ] \
    && [ -x "$FLASHARB_PG_BIN/postgres" ]; then
    return 0
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
  done
  return 1
}

if have_server; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: PostgreSQL server binaries not found and apt-get is unavailable;" \
    "install PostgreSQL (initdb, pg_ctl, postgres) or set FLASHARB_PG_BIN to their folder" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-postgres: run as root, or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

echo "ensure-postgres: installing PostgreSQL server (apt-get install -y postgresql)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The package may create and start its default cluster as a service; the tests never use it.
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! have_server; then
  echo "ensure-postgres: apt installed postgresql but no /usr/lib/postgresql/*/bin/{initdb,pg_ctl,postgres}" >&2
  exit 1
fi
echo "ensure-postgres: ok ($(ls -d /usr/lib/postgresql/*/bin | tail -n1))"
