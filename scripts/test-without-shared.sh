#!/usr/bin/env bash
# The test suite as a user's fresh clone runs it: a clone of HEAD in a
# temporary folder (no shared/ beside it), FACESWAP_TESTDATA pointing at an
# empty folder and FACESWAP_NO_SHARED=1, so tests that need the shared test
# data skip with one line even under CI=true. Everything else (the model
# cache, Chromium) must still be there: under CI its absence fails as usual.
# A test that reads ../shared without saying so fails here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/faceswap-noshared.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "test-without-shared: cloning $(git -C "$root" rev-parse --short HEAD) into $tmp/faceswap (no shared/ beside it)"
git clone -q "$root" "$tmp/faceswap"
mkdir "$tmp/empty"
cd "$tmp/faceswap"
export FACESWAP_TESTDATA="$tmp/empty" FACESWAP_NO_SHARED=1
make --no-print-directory setup test-deps check
