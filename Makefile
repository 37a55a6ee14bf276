# The two commands of the README's quick start, and helpers.
GO ?= go

.PHONY: demo test test-short vet bench

# Main job: train the cpu preset on CIFAR-10 (downloaded if absent) and write
# the map, metrics and pictures to runs/cifar10-cpu.
demo:
	$(GO) run ./cmd/tsimcne train -preset cpu -out runs/cifar10-cpu

# Every test: unit tests, real-data checks, the browser check and the
# notebooks (the last ones skip with a message where their tools are missing;
# .ci/run installs them and makes them mandatory).
test:
	$(GO) vet ./...
	$(GO) vet -tags noaccel ./...   # builds without tsimcne/accel's links into GoMLX internals
	$(GO) build -tags xla -o /dev/null ./cmd/tsimcne   # the XLA (GPU) build stays buildable
	$(GO) test -timeout 85m ./...

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./tsimcne/accel ./tsimcne/model ./tsimcne/knn ./tsimcne/augment
