#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the service and its tests need, if any are missing.
# Usage: scripts/install-system-packages.sh [run|test|bench]
# (bench: wrk for bench/run.py saturation; never installed by run or test, so CI stays as fast)
set -euo pipefail
mode=${1:-test}
packages=(fonts-liberation fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 python3-venv)
if [ "$mode" = test ]; then
  # openssl: the production-parity stage serves gunicorn over TLS with a throwaway certificate
  packages+=(postgresql redis-server chromium poppler-utils openssl)
  # nodejs, npm: the real OpenID provider the single sign-on tests sign in through
  # (scripts/oidc-provider, installed by `make install-dev`)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
if [ "$mode" = bench ]; then
  packages+=(wrk)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
