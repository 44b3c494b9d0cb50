#!/usr/bin/env bash
# make fuzz: run every fuzz target of a parser of untrusted bytes for
# FUZZTIME each (default 10s; the recorded campaigns use 10m), one worker
# each (FUZZPARALLEL, default 1, as the machine is shared), one target at a
# time, and print one summary line per target: executions, new corpus
# entries, and the result. A failing input is saved by Go under the
# package's testdata/fuzz/FuzzXxx/ and becomes a regression test there.
# FUZZ=REGEXP picks targets by "package/FuzzName".
# FUZZKEEP=N (KB, default 0: off) copies what a campaign found into the
# package's testdata/fuzz/FuzzXxx/, smallest inputs first, up to N KB per
# target (counting what is there), so that `go test` replays it and the
# next campaign starts from it (with FUZZTIME=1x it only copies).
set -euo pipefail
fuzztime=${FUZZTIME:-10s}
parallel=${FUZZPARALLEL:-1}
only=${FUZZ:-.}
keep=${FUZZKEEP:-0}
cache=$(go env GOCACHE)/fuzz/$(go list -m)
targets=(
  ./httpapi/FuzzParseRequest ./httpapi/FuzzMultipart
  ./fetch/FuzzResolve ./fetch/FuzzDecodeBase64
  ./selection/FuzzParseIndices
  ./imageio/FuzzDecodeJPEG ./imageio/FuzzDecodePNG ./imageio/FuzzDecodeGIF ./imageio/FuzzDecodeWebP
  ./tfjs/FuzzParseManifest ./tfjs/FuzzWeights
  ./onnxfile/FuzzRead
  ./models/optional/FuzzParse ./models/optional/FuzzFit ./models/optional/FuzzContentRange
  ./client/FuzzParseServerTiming
)
# deadline_race NAME: the run failed only because Go's fuzzing coordinator
# (before Go 1.27) can report its own -fuzztime deadline as an error when the
# deadline falls at the wrong moment: the FAIL line is followed by nothing
# but "context deadline exceeded" and no failing input was written. A real
# finding always writes its input ("Failing input written to ...").
deadline_race() {
  ! grep -q 'Failing input written to' "$log" &&
    grep -A1 -E "^--- FAIL: $1 " "$log" | tail -n 1 | grep -qx '    context deadline exceeded' &&
    [[ $(grep -c -E '^--- FAIL' "$log") == 1 ]]
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
for t in "${targets[@]}"; do
  [[ $t =~ $only ]] || continue
  pkg=${t%/*} name=${t##*/}
  note=
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -timeout 0 -parallel "$parallel" "$pkg" >"$log" 2>&1; then
    result=ok
  elif deadline_race "$name"; then
    result=ok note=" — Go's deadline race (golang/go#75804), no failing input"
  else
    result=FAIL failed=1
    cat "$log"
  fi
  last=$(grep -E '^fuzz: elapsed' "$log" | tail -n 1 || true)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
  total=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 new, corpus \2/p' <<<"$last")
  kept=
  if ((keep > 0)) && [[ -d $cache/${pkg#./}/$name ]]; then
    dir=${pkg#./}/testdata/fuzz/$name
    mkdir -p "$dir"
    used=$(du -sb "$dir" | cut -f1) n=0
    while read -r size file; do
      [[ -e $dir/${file##*/} ]] && continue
      ((used + size <= keep * 1024)) || break
      cp "$file" "$dir/" && used=$((used + size)) n=$((n + 1))
    done < <(find "$cache/${pkg#./}/$name" -type f -printf '%s %p\n' | sort -n)
    kept=", $n kept in $dir"
  fi
  printf 'fuzz %-34s %-6s %s execs, %s (%s)%s\n' "${pkg#./}/$name" "$result" "${execs:-?}" "${total:-?}" "$fuzztime" "$kept$note"
done
exit $failed
