#!/usr/bin/env bash
# make run: after set-up, create (once) a local development key, print it and a
# ready-to-paste curl command, and serve on FACESWAP_ADDR (default :8080) with
# the embedded defaults (SQLite file in FACESWAP_HOME, in-process limiter).
set -euo pipefail
bin=${BIN:-bin/faceswap}
home=${FACESWAP_HOME:-$HOME/.cache/faceswap}
addr=${FACESWAP_ADDR:-:8080}
keyfile="$home/dev-key"
if [ ! -s "$keyfile" ]; then
  echo "faceswap run: creating a local development key (1000 credits, 600 requests/minute)"
  key=$("$bin" keys create --name development --credits 1000 --rate-per-minute 600 | tail -n 1)
  umask 077
  printf '%s\n' "$key" > "$keyfile"
fi
key=$(cat "$keyfile")
port=${addr##*:}
samples="$home/samples/face-api"
cat <<MSG

Development key (kept in $keyfile): $key

Try it (puts the faces of one demo photo into another; the body goes through stdin, as a
base64 photo is longer than a command-line argument may be):
  { printf '{"source_img":"'; base64 -w0 $samples/sample1.jpg; printf '","target_img":"'; base64 -w0 $samples/sample4.jpg
    printf '","input_faces_index":"0,1,2","source_faces_index":"0,1,2","detection_face_order":"left-right"}'; } |
  curl -s -o out.jpg -w '%{http_code} %{content_type}\n' http://127.0.0.1:$port/v1/faceswap-v3-multifaceswap \
    -H 'x-api-key: $key' -H 'Content-Type: application/json' --data-binary @-
  curl -s http://127.0.0.1:$port/v1/get-user-credits -H 'x-api-key: $key'

Playground (paste the key into its key field): http://127.0.0.1:$port/

MSG
# Webhooks of v2 requests are signed with a secret: one is made once for
# local use (kept beside the key) unless FACESWAP_WEBHOOK_SECRET is set.
secretfile="$home/webhook-secret"
if [ -z "${FACESWAP_WEBHOOK_SECRET:-}" ]; then
  if [ ! -s "$secretfile" ]; then
    echo "faceswap run: creating a local webhook signing secret in $secretfile"
    (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$secretfile")
  fi
  FACESWAP_WEBHOOK_SECRET=$(cat "$secretfile")
  export FACESWAP_WEBHOOK_SECRET
fi
exec "$bin" serve --addr "$addr"
