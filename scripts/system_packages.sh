#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (listed in scripts/debian-packages.txt)
# when they are missing. CI and fresh machines run as root; elsewhere sudo is used if present.
set -euo pipefail
list="$(dirname "$0")/debian-packages.txt"
missing=()
while read -r package _; do
  [[ -z "$package" || "$package" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done < "$list"
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing Debian packages: ${missing[*]}"
run=()
[[ $(id -u) -eq 0 ]] || run=(sudo)
"${run[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
