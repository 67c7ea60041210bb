# Parley — one binary, embedded storage.
GO ?= go
PKGS := ./...

.PHONY: run build test chaos soak bench bench-go bench-load bench-targets vet fmt clean fuzz

## run: start the zero-flag demo on ./data (prints the admin token and demo URL)
run:
	$(GO) run ./cmd/parley serve

## build: build bin/parley
build:
	$(GO) build -o bin/parley ./cmd/parley

## test: vet, format check and every test with the race detector
test: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## chaos: the crash test at length — SIGKILL under load, ROUNDS times (default 20), every ack checked
ROUNDS ?= 20
chaos:
	PARLEY_CRASH_ROUNDS=$(ROUNDS) $(GO) test -count=1 -timeout 30m -run 'TestCrashKillUnderLoad' -v ./cmd/parley

## soak: an hour at moderate load, sampling the server's memory and goroutines every minute
soak: build
	./bin/parley bench --shoppers 2000 --rate 400 --agent-rate 40 --duration 1h --sample-every 1m

## bench: every benchmark and the long load runs of docs/performance.md (about 6 minutes)
bench: bench-go bench-targets

## bench-go: the Go benchmarks (storage, actors incl. a 100k-ticket restart, WebSocket round trip, memory)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s -timeout 30m ./persist ./actors ./transport

## bench-targets: the load tool at the sizes the performance targets name
bench-targets: build
	./bin/parley bench --shoppers 10000 --duration 20s
	./bin/parley bench --shoppers 10000 --rate 2000 --agent-rate 200 --duration 20s
	./bin/parley bench --shoppers 1000 --duration 10s

## bench-load: the load tool against a spawned server (SHOPPERS=1000 DURATION=10s RATE=0 ARGS=...)
SHOPPERS ?= 1000
DURATION ?= 10s
RATE ?= 0
bench-load:
	$(GO) run ./cmd/parley bench --shoppers $(SHOPPERS) --duration $(DURATION) --rate $(RATE) $(ARGS)

## fuzz: every fuzz target for FUZZTIME each, one after another (not part of CI)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./persist
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTicketEvent$$' -fuzztime $(FUZZTIME) ./persist
	$(GO) test -run '^$$' -fuzz '^FuzzRecordDecode$$' -fuzztime $(FUZZTIME) ./persist
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRow$$' -fuzztime $(FUZZTIME) ./persist
	$(GO) test -run '^$$' -fuzz '^FuzzSettingsValidate$$' -fuzztime $(FUZZTIME) ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzDuration$$' -fuzztime $(FUZZTIME) ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./transport/identity
	$(GO) test -run '^$$' -fuzz '^FuzzSettingsSections$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzAPIBodies$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzFrame$$' -fuzztime $(FUZZTIME) ./transport

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
