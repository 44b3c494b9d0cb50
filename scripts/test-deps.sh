#!/usr/bin/env bash
# Installs what only the tests need, when it is missing: Chromium (the
# playground's browser test drives Debian's `chromium` headless) and curl
# (the test runs the page's "copy as curl" command). On Debian/Ubuntu as
# root it installs them with apt-get; elsewhere it says what is missing and
# carries on, and the browser test skips (or, under CI=true, fails) saying
# so. Idempotent: with everything present it only checks.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "test setup: installing Debian packages for the browser test: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "test setup: installed ${missing[*]}"
else
  echo "test setup: missing ${missing[*]} (e.g. apt-get install ${missing[*]}); the browser test will skip without it" >&2
fi
