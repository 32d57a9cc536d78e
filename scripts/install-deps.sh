#!/usr/bin/env bash
# Installs the Debian packages the whole test run needs when they are missing, on Debian 12 (bookworm):
# - mosquitto and MariaDB (server and client), for the server tests;
# - Python with dateutil, for the check that the tutorial's own parser reads our payloads;
# - Galera (galera-4) and what its state transfers need (rsync, mariadb-backup with socat, ss or lsof), for the
#   cluster tests;
# - Chromium (/usr/bin/chromium), for the dashboard's browser test;
# - systemd-analyze (package systemd), for the check of the unit files in deploy/systemd;
# - qemu-user-static and the arm64 C, C++, ICU, OpenSSL and zlib libraries (Debian multiarch), for the test that runs
#   the linux-arm64 builds under emulation, as on a 64-bit Raspberry Pi;
# - clang, lld, llvm and the arm64 C runtime objects, for Native AOT builds (linux-x64, and linux-arm64 cross-compiled).
# It is quiet and quick when everything is there (it runs at the start of every ./test.sh), works as root or through
# sudo, and only installs packages: it never starts or changes a system service.
set -euo pipefail

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

need=()
has mosquitto || need+=(mosquitto)
has mosquitto_pub || need+=(mosquitto-clients)
has mariadbd || need+=(mariadb-server)
has mariadb || need+=(mariadb-client)
# The test looks for dateutil in `python3` on PATH, then in Debian's /usr/bin/python3.
if ! python3 -c 'import dateutil' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import dateutil' >/dev/null 2>&1; then
  need+=(python3 python3-dateutil)
fi

# Galera: the provider library, and both state-transfer methods' tools (wsrep_sst_rsync and wsrep_sst_mariabackup);
# both SST scripts look for a free port with ss (iproute2), lsof or sockstat.
[ -e /usr/lib/galera/libgalera_smm.so ] || need+=(galera-4)
has rsync || need+=(rsync)
has mariadb-backup || has mariabackup || need+=(mariadb-backup)
has socat || need+=(socat)
has ss || has lsof || need+=(iproute2)

[ -x /usr/bin/chromium ] || need+=(chromium)
has systemd-analyze || need+=(systemd)

# Native AOT: clang drives the link, lld links for either architecture (-p:LinkerFlavor=lld; the default, bfd, links
# only for this machine's own), llvm-objcopy strips the symbols into .dbg files. .NET 10's AOT runtime carries its own
# zlib and libstdc++ shim, so neither needs a -dev package.
has clang || need+=(clang)
has ld.lld || need+=(lld)
has llvm-objcopy || need+=(llvm)

# The emulated Raspberry Pi: qemu-aarch64-static runs the linux-arm64 programs with -L / against these arm64
# libraries, installed beside the machine's own (multiarch). libc6-dev:arm64 and libgcc-12-dev:arm64 give the linker
# the arm64 C runtime (crt1.o, crtbegin.o, libc, libm, libgcc) for the cross-compiled Native AOT build.
arm64=(libc6:arm64 libstdc++6:arm64 libicu72:arm64 libssl3:arm64 zlib1g:arm64
       libc6-dev:arm64 libgcc-12-dev:arm64)
has qemu-aarch64-static || need+=(qemu-user-static)
add_arch=0
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || add_arch=1
  for p in "${arm64[@]}"; do
    installed "$p" || need+=("$p")
  done
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
if [ $add_arch -eq 1 ]; then
  $sudo dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps the packages' own services from starting: the tests run private instances only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
# sudo does not pass DEBIAN_FRONTEND on by default; without it debconf may wait for an answer.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
