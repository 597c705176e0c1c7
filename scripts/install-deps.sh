#!/usr/bin/env bash
# Installs the Debian packages convo needs to build and test, only when one is missing.
set -euo pipefail

packages=(
    postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap pgtap
    libpq-dev libboost-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
    libspdlog-dev libgtest-dev cmake g++ make pkg-config
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js and npm, for the token estimator check only (tests/tokenizer): any installation will do.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "convo: missing packages: ${missing[*]}" >&2
    echo "convo: run 'make deps' as root (or apt-get install them) and retry" >&2
    exit 1
fi

echo "convo: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
