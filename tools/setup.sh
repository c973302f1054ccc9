#!/usr/bin/env bash
# Installs the Debian 12 packages seedlog needs, and nothing when all are present.
# Idempotent and quiet: dpkg is asked first, so a machine that has everything skips the network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache clang libclang-rt-14-dev
  libboost-context-dev libfmt-dev librapidcheck-dev libgtest-dev libgmock-dev libcli11-dev
  libbenchmark-dev liblz4-dev libzstd-dev libsnappy-dev zlib1g-dev libxxhash-dev
  nlohmann-json3-dev libtomlplusplus-dev libgoogle-perftools-dev tshark git parallel
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
