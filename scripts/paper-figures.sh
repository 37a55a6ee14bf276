#!/bin/bash
# The larger CPU runs behind the committed outputs of notebooks/paper_figures.ipynb.
#
# One pre-training (the cpu preset's network and protocol: all 60 000 CIFAR-10 images,
# 35 epochs of stage 1, about 27 minutes on 2 cores), then the map's stages (2 + 6 epochs,
# about 6 minutes each) branched from it with `train -pretrained`: the Cauchy, Gaussian and
# cosine kernel in 2-D, three seeds each; and one run trained in 2-D from the start for as
# many full-network epochs as the pre-training plus a branch (about 35 minutes); about 2 hours in all.
# Runs that have a metrics.json are skipped, so the script can be re-run after a stop.
#
#   TSIMCNE_DATA=/path/to/data bash scripts/paper-figures.sh      # writes runs/paper/
#
# Then execute the notebook with these runs (it finds runs/paper/ by itself):
#   go test ./notebooks -run 'TestExecuteNotebooks/paper_figures' -timeout 60m -update
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/paper}
BIN=${TSIMCNE:-}
if [ -z "$BIN" ]; then
	BIN=$(mktemp -d)/tsimcne
	go build -o "$BIN" ./cmd/tsimcne
fi
common=(-pictures=false -progress lines)
run() { # name, then train's flags
	local name=$1
	shift
	if [ -e "$OUT/$name/metrics.json" ]; then
		echo "== $name: done already"
		return
	fi
	echo "== $name: $(date -u +%H:%M:%S)"
	"$BIN" train -out "$OUT/$name" "${common[@]}" "$@" >"$OUT/$name.log" 2>&1
	grep -A2 'kNN accuracy' "$OUT/$name.log"
}
mkdir -p "$OUT"
run pretrain -preset cpu -eval holdout -cifar-batches 5 -epochs 35,0,0 -warmup 2,0,0
for seed in 1 2 3; do
	for kernel in cauchy gaussian cosine; do
		run "$kernel-s$seed" -pretrained "$OUT/pretrain" -epochs 35,2,6 -map-kernel "$kernel" -seed "$seed"
	done
done
# 2-D from the start: 42 full-network epochs, as many as the pre-training (35) plus a
# branch (6, and 2 of stage 2 at about half the cost each), at the full learning rate.
run 2d-from-start -preset cpu -eval holdout -cifar-batches 5 -epochs 0,0,42 -warmup 0,0,2 -stage-lr 1,1,1
