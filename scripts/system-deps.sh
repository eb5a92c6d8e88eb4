#!/usr/bin/env bash
# Installs the Debian packages Spilno needs, only when something is missing, so a second
# run costs nothing. Runs as root (or through sudo when it is there).
set -euo pipefail

PACKAGES=(
  python3 python3-venv python3-dev build-essential  # the virtual environment, C extensions
  postgresql postgresql-client                       # the server's database (tests too)
  chromium fonts-dejavu-core                         # the kiosk screen and its browser tests; Cyrillic fonts
  pcscd vsmartcard-vpcd swig libpcsclite-dev         # card readers: PC/SC, a virtual reader for tests, pyscard's build
  libzbar0                                           # QR decoding (pyzbar)
  cups-client poppler-utils                          # receipt printing (lp); PDF checks
  cups-daemon cups-core-drivers                      # a private cupsd and its pass-through filter for the printing tests
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
