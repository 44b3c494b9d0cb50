#!/bin/sh
# Makes the small image fixtures in this folder from the synthetic pattern
# defined in ../fixtures_test.go (no photos). Run it from anywhere; the tests
# only read its output and need none of these tools.
# Needs: go; cwebp and img2webp (Debian package webp); cjpeg (libjpeg-turbo-progs);
# convert (imagemagick), for the CMYK JPEG only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT

(cd "$here/.." && IMAGEIO_FIXTURE_SRC="$src" go test -count=1 -run '^TestWriteFixtureSources$' .)

ppm="$src/pattern.ppm"
# Progressive JPEG, colour (4:2:0 and 4:4:4) and grey.
cjpeg -quality 90 -progressive -sample 2x2 "$ppm" >"$here/progressive-420.jpg"
cjpeg -quality 90 -progressive -sample 1x1 "$ppm" >"$here/progressive-444.jpg"
cjpeg -quality 90 -progressive -grayscale "$ppm" >"$here/progressive-gray.jpg"
# Baseline JPEG with each chroma subsampling Go's encoder does not write.
cjpeg -quality 90 -sample 1x1 "$ppm" >"$here/baseline-444.jpg"
cjpeg -quality 90 -sample 2x1 "$ppm" >"$here/baseline-422.jpg"
cjpeg -quality 90 -sample 1x2 "$ppm" >"$here/baseline-440.jpg"
cjpeg -quality 90 -sample 4x1 "$ppm" >"$here/baseline-411.jpg"
cjpeg -quality 90 -sample 4x2 "$ppm" >"$here/baseline-410.jpg"
# Arithmetic coding: valid JPEG that the decoder does not support.
cjpeg -quality 90 -arithmetic "$ppm" >"$here/arithmetic.jpg"
# CMYK JPEG (Adobe APP14, inverted CMYK as Photoshop writes it).
convert "$ppm" -colorspace CMYK -quality 90 -strip "$here/cmyk.jpg"
# WebP: lossy (VP8), lossless (VP8L), lossy with alpha (VP8X+ALPH+VP8),
# lossless with alpha (VP8L); -exact keeps colour under transparent pixels.
cwebp -quiet -q 90 "$src/pattern.png" -o "$here/lossy.webp"
cwebp -quiet -lossless "$src/pattern.png" -o "$here/lossless.webp"
cwebp -quiet -q 90 -alpha_q 100 "$src/pattern-alpha.png" -o "$here/lossy-alpha.webp"
cwebp -quiet -lossless -exact "$src/pattern-alpha.png" -o "$here/lossless-alpha.webp"
# Animated WebP (ANIM + ANMF, lossless frames): the opaque pattern, then the
# one with alpha; decoding keeps the first frame only. Needs img2webp (webp).
img2webp -loop 0 -lossless -d 100 "$src/pattern.png" -d 100 "$src/pattern-alpha.png" -o "$here/animated.webp" >/dev/null
ls -l "$here"
