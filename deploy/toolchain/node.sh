#!/usr/bin/env bash
# Prints the bin folder of the Node.js Herald runs on (the version in deploy/toolchain/node-version),
# fetching the official binary from the npm registry's `node-linux-<arch>` package when the machine's
# node is another major version. Nothing is installed outside .herald/.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(cat deploy/toolchain/node-version)
major=${version%%.*}
if command -v node > /dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ] \
   && [ -z "${HERALD_PINNED_NODE:-}" ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no official Node.js $version package for $(uname -m): install Node.js $major yourself" >&2; exit 1 ;;
esac
home=.herald/node-v$version
if [ ! -x "$home/bin/node" ]; then
  echo "fetching Node.js $version (node-linux-$arch from the npm registry) into $home" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" > /dev/null && tar xzf node-linux-*.tgz)
  rm -rf "$home" && mkdir -p .herald && mv "$tmp/package" "$home" && rm -rf "$tmp"
fi
echo "$PWD/$home/bin"
