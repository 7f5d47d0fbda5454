#!/usr/bin/env bash
# Makes Debian's SoftHSM2 available, installing Debian's `softhsm2` when it is missing, so the PKCS#11
# adapter's tests (test/integration/pkcs11-*.test.ts, test/support/softhsm.ts) run against a real
# token on a fresh machine from the project's files alone. The package's own token directory and
# configuration are never used: each test points SOFTHSM2_CONF at a configuration of its own.
#
# Exit status and the last line of stdout say what happened:
#   0  READY <library> <softhsm2-util>
#   3  UNAVAILABLE <why>   (no apt-get, not root, or the install failed)
# Anything the install prints goes to stderr.
set -uo pipefail

LIBRARY=/usr/lib/softhsm/libsofthsm2.so

unavailable() {
  echo "UNAVAILABLE $*"
  exit 3
}

ready() {
  local util
  util=$(command -v softhsm2-util) || return 1
  [ -r "$LIBRARY" ] || return 1
  echo "READY $LIBRARY $util"
}

ready && exit 0

# Test files run in parallel workers, each calling this: one installs, the others wait and find it ready.
exec 9>"${TMPDIR:-/tmp}/coffer-ensure-softhsm.lock"
flock -w 600 9 || unavailable "another install of softhsm2 did not finish within 10 minutes"
ready && exit 0

command -v apt-get >/dev/null 2>&1 || unavailable "SoftHSM2 is not installed and there is no apt-get to install it"
[ "$(id -u)" = 0 ] || unavailable "SoftHSM2 is not installed and installing it needs root (uid is $(id -u))"

export DEBIAN_FRONTEND=noninteractive
APT_WAIT=(-o DPkg::Lock::Timeout=120)
install() {
  apt-get "${APT_WAIT[@]}" install -y --no-install-recommends softhsm2 >&2
}
if ! install; then
  apt-get "${APT_WAIT[@]}" update >&2 || unavailable "apt-get update failed (no network to the Debian mirrors?)"
  install || unavailable "apt-get install softhsm2 failed"
fi

ready || unavailable "softhsm2 was installed but $LIBRARY or softhsm2-util is missing"
