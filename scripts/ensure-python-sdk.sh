#!/usr/bin/env bash
# Makes the official Azure SDK for Python importable by Debian's own python3, installing Debian's
# python3-azure when it is missing, so the Python compatibility suite (test/compat/python-sdk.test.ts)
# runs on a fresh machine from the project's files alone.
#
# Debian's package installs into /usr/lib/python3/dist-packages, which only /usr/bin/python3 reads:
# a python3 earlier on PATH (pyenv, a virtualenv) would not see it, so the interpreter is fixed.
#
# Exit status and the last line of stdout say what happened:
#   0  READY <python> <json of package versions>
#   3  UNAVAILABLE <why>   (no Debian python3, no apt-get, not root, or the install failed)
# Anything the install prints goes to stderr.
set -uo pipefail

PYTHON=/usr/bin/python3
MODULES='import azure.keyvault.secrets, azure.keyvault.keys, azure.identity'

unavailable() {
  echo "UNAVAILABLE $*"
  exit 3
}

modules_present() {
  "$PYTHON" -c "$MODULES" >/dev/null 2>&1
}

report_ready() {
  local versions
  versions=$("$PYTHON" - <<'EOF'
import json
from importlib.metadata import version
names = ["azure-keyvault-secrets", "azure-keyvault-keys", "azure-identity", "azure-core", "msal"]
print(json.dumps({name: version(name) for name in names}))
EOF
  ) || unavailable "the azure modules import but their versions cannot be read"
  echo "READY $PYTHON $versions"
  exit 0
}

[ -x "$PYTHON" ] || unavailable "no Debian python3 at $PYTHON"
modules_present && report_ready

command -v apt-get >/dev/null 2>&1 || unavailable "python3-azure is not installed and there is no apt-get to install it"
[ "$(id -u)" = 0 ] || unavailable "python3-azure is not installed and installing it needs root (uid is $(id -u))"

export DEBIAN_FRONTEND=noninteractive
# Another apt run (unattended upgrades on a fresh machine) holds the lock for a while: wait for it
# rather than report the package as uninstallable.
APT_WAIT=(-o DPkg::Lock::Timeout=120)
install() {
  apt-get "${APT_WAIT[@]}" install -y --no-install-recommends python3-azure >&2
}
# A fresh image often has no package lists (or stale ones whose files the mirror no longer has):
# refresh them once and try again before giving up.
if ! install; then
  apt-get "${APT_WAIT[@]}" update >&2 || unavailable "apt-get update failed (no network to the Debian mirrors?)"
  install || unavailable "apt-get install python3-azure failed"
fi

modules_present || unavailable "python3-azure was installed but $PYTHON still cannot import the azure modules"
report_ready
