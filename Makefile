# Parley — one binary, embedded storage.
GO ?= go
PKGS := ./...

.PHONY: run build test bench bench-load vet fmt clean

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

## bench: the benchmarks (storage, actors, WebSocket round trip)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s ./persist ./actors ./transport

## bench-load: the load tool against a spawned server (SHOPPERS=1000 DURATION=10s RATE=0 ARGS=...)
SHOPPERS ?= 1000
DURATION ?= 10s
RATE ?= 0
bench-load:
	$(GO) run ./cmd/parley bench --shoppers $(SHOPPERS) --duration $(DURATION) --rate $(RATE) $(ARGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin data
