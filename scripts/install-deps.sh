#!/usr/bin/env bash
# Installs every Debian 12 package tapstack needs to build, test and benchmark.
# Idempotent: when everything is already present it only checks and returns.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git
  # libraries
  libabsl-dev libtins-dev libgtest-dev libgmock-dev libbenchmark-dev libevent-dev libuv1-dev
  libpcap-dev libssl-dev
  # benchmarks: lwIP as a peer (optional for the build)
  liblwip-dev
  # tests: namespaces, TAP, firewall, captures, kernel peers
  iproute2 iputils-ping nftables tshark netcat-openbsd python3 procps
  # tests: the TCP conformance suite crafts its segments with scapy
  python3-scapy
  # tests: the web pages of `tapstack demo --html` and `diagram --html` in a real browser
  chromium
  # plots for docs/
  gnuplot-nox
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install packages" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
