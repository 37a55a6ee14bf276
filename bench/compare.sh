#!/bin/sh
# Training step of gosimcne vs PyTorch on the same network, loss and
# optimizer, on this CPU: see bench/README.md. All flags go to
# bench/compare (go run ./bench/compare -h lists them), e.g.
#
#   bench/compare.sh -quick
#   bench/compare.sh -backbones resnet18 -batches 32,128 -reps 3
set -e
cd "$(dirname "$0")/.."
exec go run ./bench/compare "$@"
