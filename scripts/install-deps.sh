#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: mosquitto and MariaDB (server and client),
# and Python with dateutil for the check that the tutorial's own parser reads our payloads.
# It only installs packages; it never starts or changes a system service.
set -euo pipefail

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
# The test looks for dateutil in `python3` on PATH, then in Debian's /usr/bin/python3.
if ! python3 -c 'import dateutil' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import dateutil' >/dev/null 2>&1; then
  need+=(python3 python3-dateutil)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps the packages' own services from starting: the tests run private instances only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

