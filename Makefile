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

## chaos: SIGKILL under load, every ack checked: the crash test at length (ROUNDS rounds, default 20),
##        then the load tool killing and restarting its server KILLS times (default 20) in a 2-minute run
ROUNDS ?= 20
KILLS ?= 20
chaos: build
	PARLEY_CRASH_ROUNDS=$(ROUNDS) $(GO) test -count=1 -timeout 30m -run 'TestCrashKillUnderLoad' -v ./cmd/parley
	./bin/parley bench --shoppers 1000 --agents 4 --rate 1000 --agent-rate 100 --duration 2m --kills $(KILLS)

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
	$(GO) test -run '^$$' -fuzz '^FuzzPlaceholders$$' -fuzztime $(FUZZTIME) ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./transport/identity
	$(GO) test -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime $(FUZZTIME) ./transport/media
	$(GO) test -run '^$$' -fuzz '^FuzzSettingsSections$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzAPIBodies$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzFrame$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzAppendJSONString$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzBenchDecodeFrame$$' -fuzztime $(FUZZTIME) ./cmd/parley/loadtest

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
