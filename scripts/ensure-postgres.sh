#!/usr/bin/env bash
# Makes Debian's PostgreSQL server binaries available, installing Debian's `postgresql` when they are
# missing, so the rotation test (test/integration/postgres-rotation.test.ts) starts a real server on a
# fresh machine from the project's files alone.
#
# Exit status and the last line of stdout say what happened:
#   0  READY <bindir>      (the directory with initdb and postgres, the newest major version)
#   3  UNAVAILABLE <why>   (no apt-get, not root, or the install failed)
# Anything the install prints goes to stderr.
set -uo pipefail

unavailable() {
  echo "UNAVAILABLE $*"
  exit 3
}

newest_bindir() {
  local dir
  # Debian installs each major version under /usr/lib/postgresql/<major>/bin; sort -V puts the newest last.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if bindir=$(newest_bindir); then
  echo "READY $bindir"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || unavailable "PostgreSQL is not installed and there is no apt-get to install it"
[ "$(id -u)" = 0 ] || unavailable "PostgreSQL is not installed and installing it needs root (uid is $(id -u))"

export DEBIAN_FRONTEND=noninteractive
APT_WAIT=(-o DPkg::Lock::Timeout=120)
install() {
  # The package's own cluster is never used: the test runs its own server in a temporary directory,
  # on a port of its own.
  apt-get "${APT_WAIT[@]}" install -y --no-install-recommends postgresql >&2
}
if ! install; then
  apt-get "${APT_WAIT[@]}" update >&2 || unavailable "apt-get update failed (no network to the Debian mirrors?)"
  install || unavailable "apt-get install postgresql failed"
fi

bindir=$(newest_bindir) || unavailable "postgresql was installed but no /usr/lib/postgresql/*/bin has initdb and postgres"
echo "READY $bindir"
