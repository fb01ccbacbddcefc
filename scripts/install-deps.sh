#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, if any is missing. Idempotent and
# non-interactive. As root it runs apt-get itself; otherwise it prints the one command needed.
set -euo pipefail

packages=(g++ cmake ninja-build ccache make pkg-config googletest libgtest-dev
  libnats-dev nats-server libtomlplusplus-dev redis-server postgresql
  libboost-dev libsodium-dev libpq-dev libhiredis-dev libsimdjson-dev curl)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
