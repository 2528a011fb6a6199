#!/usr/bin/env bash
# librdkafka (through @confluentinc/kafka-javascript) is built from source at `npm ci`: its prebuilt
# binaries are downloaded from outside the package registries, which many machines cannot reach. The
# build links the system's TLS, SASL and compression libraries; this checks their headers are there,
# installs them with apt when running as root on Debian or Ubuntu, and otherwise names what is missing.
set -euo pipefail
# header -> Debian package
declare -A needed=(
  [openssl/ssl.h]=libssl-dev [zlib.h]=zlib1g-dev [zstd.h]=libzstd-dev [sasl/sasl.h]=libsasl2-dev
  [curl/curl.h]=libcurl4-openssl-dev [lz4.h]=liblz4-dev
)
missing=()
for header in "${!needed[@]}"; do
  [ -e "/usr/include/$header" ] || [ -e "/usr/include/x86_64-linux-gnu/$header" ] \
    || [ -e "/usr/include/aarch64-linux-gnu/$header" ] || missing+=("${needed[$header]}")
done
command -v g++ > /dev/null || missing+=(g++)
command -v make > /dev/null || missing+=(make)
command -v python3 > /dev/null || missing+=(python3)
# Not for the build: the local Kafka's TLS listeners (tests) get their certificates from openssl.
command -v openssl > /dev/null || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing the native build's dependencies: ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  exit 0
fi
echo "Herald's Kafka client (librdkafka) is built from source and needs: ${missing[*]}" >&2
echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
echo "  Fedora/RHEL:   sudo dnf install openssl-devel zlib-devel libzstd-devel cyrus-sasl-devel libcurl-devel lz4-devel gcc-c++ make python3" >&2
echo "  macOS:         brew install openssl zstd lz4 (and the Xcode command line tools)" >&2
exit 1
