#!/bin/bash
# GPU check and timing of the XLA path, for one call on a lent GPU machine
# (no Go and no network there: the binaries are built here and carried).
#
#   go build -tags xla -ldflags=-s\ -w -o .gpu/gostep ./bench/gostep
#   go build -tags xla -ldflags=-s\ -w -o .gpu/tsimcne ./cmd/tsimcne
#   gzip -f .gpu/gostep .gpu/tsimcne          # .gpu/ is in .gitignore
#   (device tool) run: bash bench/gpu/run.sh, carry .gpu
#
# It finds JAX's CUDA PJRT plugin (python3's jax_plugins), points GoMLX at it
# (GOMLX_BACKEND=xla:/path/to/xla_cuda_plugin.so), times gosimcne's training
# step at the paper's batch (1024 images = 2048 views) with bench/gostep, the
# same step in PyTorch (bench/torch/step.py --device cuda), and three epochs of
# `tsimcne train -preset paper` on random CIFAR-10-format data (the pipeline
# end to end: augmentation, steps, checkpoints), with and without prefetch.
# Logs go to $OUT.
#
# SECTIONS (default gostep,torch,train) picks the parts; TRAIN_PREFETCH
# (default "auto off") the -prefetch modes of the train part.
#
# SECTIONS=gpushort trains `tsimcne train -preset gpu-short` (ResNet-18, all
# 60 000 CIFAR-10 images, paper protocol) in one run and leaves in $OUT the
# log, metrics.json (with the history), history.json, map.png,
# thumbnails.png and the float16 model export (split in 15 MB parts: files
# come back at most 16 MiB each; `cat gpu-short.gsm.part-* > gpu-short.gsm`).
# Real CIFAR-10 is 184 MB and one call carries at most 64 MiB, so
# bench/gpu/pack-cifar.sh splits it into .gpu/cifar/part1..3 (two files each)
# and three calls in a row carry one part each (the machine keeps carried
# paths between calls while it is warm):
#   run(command="true", carry=[".gpu/cifar/part1"])
#   run(command="true", carry=[".gpu/cifar/part2"])
#   run(command="SECTIONS=gpushort bash bench/gpu/run.sh", carry=[".gpu/tsimcne.gz", ".gpu/cifar/part3"])
# Without all six files there it trains on random data of the same format
# (timing only) and says so. GPUSHORT_FLAGS adds flags to the train command
# (e.g. "-epochs 2,1,1" for a dry run).
#
# SECTIONS=dataparallel checks the data-parallel path (Config.Devices) on
# XLA: the tsimcne package's test binary, built here with
#   go test -c -tags xla -ldflags=-s\ -w -o .gpu/tsimcne.test ./tsimcne && gzip -f .gpu/tsimcne.test
# runs TestDataParallelStepMatchesPlain (one sharded step against the plain
# one: same loss and weights; over a one-device mesh and all the machine's
# devices) and TestShardedStreamSplitsBatches, then one quick epoch of
# `tsimcne train -devices N` on random data.
set -u
SECTIONS=",${SECTIONS:-gostep,torch,train},"
want() { [[ $SECTIONS == *",$1,"* ]]; }
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
T0=$(date +%s)
stamp() { echo "== [$(( $(date +%s) - T0 ))s] $*"; }

# RUN_ON_CPU=1 skips the GPU setup and runs on the pure-Go backend: a dry
# run of the script here, at a tiny size (GPUSHORT_FLAGS).
if [ -z "${RUN_ON_CPU:-}" ]; then
stamp machine
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
nproc; free -g | head -2
python3 -c 'import torch, jax; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "jax", jax.__version__)' 2>&1 | tail -1

stamp plugin
PLUGIN=$(python3 - <<'PY' 2>/dev/null
import glob, os, importlib.util
for name in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            for f in glob.glob(os.path.join(d, "*.so")):
                if "plugin" in os.path.basename(f):
                    print(f); raise SystemExit
PY
)
[ -n "$PLUGIN" ] || PLUGIN=$(find / -name 'xla_cuda_plugin.so' -not -path '/proc/*' 2>/dev/null | head -1)
echo "plugin: $PLUGIN"
[ -n "$PLUGIN" ] || { echo "no CUDA PJRT plugin found"; exit 1; }
SITE=$(dirname "$(dirname "$(dirname "$PLUGIN")")")
echo "site-packages: $SITE"; ls "$SITE/nvidia" 2>/dev/null | tr '\n' ' '; echo
# The plugin finds NVIDIA's libraries through its RUNPATH ($ORIGIN/../../nvidia/...);
# LD_LIBRARY_PATH is a fallback.
export LD_LIBRARY_PATH=$(ls -d "$SITE"/nvidia/*/lib 2>/dev/null | tr '\n' ':')${LD_LIBRARY_PATH:-}
CUDA_DIR=""
for d in "$SITE/nvidia/cuda_nvcc" "$SITE/nvidia/cu13" /usr/local/cuda; do
  if [ -d "$d/nvvm/libdevice" ]; then CUDA_DIR=$d; break; fi
done
echo "cuda data dir: ${CUDA_DIR:-none}"
[ -n "$CUDA_DIR" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$CUDA_DIR ${XLA_FLAGS:-}"
export PATH=$PATH:/usr/local/cuda/bin
export GOPJRT_CUDA_CHECKS=0   # go-xla's check would point XLA_FLAGS at its author's home folder
export GOMLX_BACKEND="xla:$PLUGIN"
fi

stamp unpack
mkdir -p /tmp/bin
for b in gostep tsimcne tsimcne.test; do
  [ -f ".gpu/$b.gz" ] || { echo "no .gpu/$b.gz carried"; continue; }
  gunzip -c ".gpu/$b.gz" > "/tmp/bin/$b" && chmod +x "/tmp/bin/$b"
done
ldd "$PLUGIN" | grep 'not found'
timeout 60 /tmp/bin/tsimcne backends > /tmp/backends.txt 2>&1; rc=$?
tail -c 2000 /tmp/backends.txt
echo "backends rc $rc"

# random_cifar DIR writes the six CIFAR-10 binary files of random images
# and labels into DIR/cifar-10-batches-bin (timing data, no real images).
random_cifar() {
python3 - "$1" <<'PY'
import numpy as np, os, sys
d = os.path.join(sys.argv[1], "cifar-10-batches-bin"); os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    rec = rng.integers(0, 256, size=(10000, 3073), dtype=np.uint8)
    rec[:, 0] = rng.integers(0, 10, size=10000)
    rec.tofile(os.path.join(d, name))
PY
}

if want dataparallel; then
stamp "data-parallel step against the plain one (go test on XLA)"
NDEV=$(nvidia-smi -L 2>/dev/null | wc -l); [ "$NDEV" -ge 1 ] || NDEV=1
(cd tsimcne && timeout 300 /tmp/bin/tsimcne.test -test.run 'DataParallel|Sharded|Devices' -test.v -test.count=1) > "$OUT/dataparallel.txt" 2>&1
echo "rc $?"; tail -c 3000 "$OUT/dataparallel.txt"
stamp "tsimcne train -devices $NDEV, one quick epoch on random data"
random_cifar /tmp/dp-data
TSIMCNE_DATA=/tmp/dp-data timeout 300 /tmp/bin/tsimcne train -quick -devices "$NDEV" -batch 256 -epochs 1,0,0 -progress lines -out /tmp/dp-run 2>&1 | tail -20
echo "rc ${PIPESTATUS[0]}"
fi

if want gostep; then
stamp "gostep resnet18, 2048 views (XLA, CUDA)"
timeout 180 /tmp/bin/gostep -backbone resnet18 -batch 2048 -warmup 2 -steps 10 -min-seconds 5 -no-flops > "$OUT/gostep.jsonl" 2> "$OUT/gostep.err"
echo "rc $?"; tail -c 1500 "$OUT/gostep.err"; head -c 1500 "$OUT/gostep.jsonl"; echo
stamp "gostep resnet18, 512 views"
timeout 90 /tmp/bin/gostep -backbone resnet18 -batch 512 -warmup 2 -steps 10 -min-seconds 3 -no-flops >> "$OUT/gostep.jsonl" 2>> "$OUT/gostep.err"
echo "rc $?"

fi

if want torch; then
stamp "pytorch resnet18, 2048 views (fp32, NCHW, as the reference)"
PYTHONUNBUFFERED=1 timeout 90 python3 bench/torch/step.py --device cuda --backbone resnet18 --batch 2048 --warmup 3 --steps 10 --min-seconds 5 --no-flops > "$OUT/torch.jsonl"
echo "rc $?"
PYTHONUNBUFFERED=1 timeout 60 python3 bench/torch/step.py --device cuda --backbone resnet18 --batch 2048 --warmup 3 --steps 10 --min-seconds 5 --no-flops --channels-last >> "$OUT/torch.jsonl"
echo "rc $?"
PYTHONUNBUFFERED=1 timeout 60 python3 bench/torch/step.py --device cuda --backbone resnet18 --batch 512 --warmup 3 --steps 10 --min-seconds 3 --no-flops >> "$OUT/torch.jsonl"
echo "rc $?"

fi

if want train; then
stamp "random CIFAR-10-format data for tsimcne train -preset paper"
random_cifar /tmp/data
for pf in ${TRAIN_PREFETCH:-auto off}; do
  stamp "train -prefetch $pf"
  rm -rf /tmp/run
  timeout 150 /tmp/bin/tsimcne train -preset paper -data /tmp/data -epochs 3,0,0 -features=false -pictures=false -progress lines -prefetch $pf -out /tmp/run
  echo "rc $?"
  cp /tmp/run/history.json "$OUT/history-prefetch-$pf.json" 2>/dev/null
  cp /tmp/run/metrics.json "$OUT/metrics-prefetch-$pf.json" 2>/dev/null
done
fi

if want gpushort; then
stamp "CIFAR-10 for gpu-short"
D=/tmp/gpushort-data/cifar-10-batches-bin
rm -rf /tmp/gpushort-data; mkdir -p "$D"
for f in .gpu/cifar/part*/*; do [ -f "$f" ] && ln -s "$PWD/$f" "$D/$(basename "$f")"; done
if [ "$(ls "$D"/*.bin 2>/dev/null | wc -l)" -ne 6 ]; then
  echo "WARNING: real CIFAR-10 not carried (.gpu/cifar/part1..3): random images of the same format, for timing only"
  rm -f "$D"/*
  python3 - "$D" <<'PY'
import numpy as np, os, sys
d = sys.argv[1]
rng = np.random.default_rng(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    rec = rng.integers(0, 256, size=(10000, 3073), dtype=np.uint8)
    rec[:, 0] = rng.integers(0, 10, size=10000)
    rec.tofile(os.path.join(d, name))
PY
fi
ls -la "$D"
stamp "train -preset gpu-short"
rm -rf /tmp/gpu-short
# shellcheck disable=SC2086
timeout 560 /tmp/bin/tsimcne train -preset gpu-short -data /tmp/gpushort-data -progress lines -out /tmp/gpu-short ${GPUSHORT_FLAGS:-}
echo "rc $?"
stamp "export"
/tmp/bin/tsimcne export -run /tmp/gpu-short -out /tmp/gpu-short.gsm && (cd /tmp && split -b 15M gpu-short.gsm gpu-short.gsm.part-)
for f in metrics.json history.json map.png thumbnails.png; do cp "/tmp/gpu-short/$f" "$OUT/" 2>/dev/null; done
cp /tmp/gpu-short.gsm.part-* "$OUT/" 2>/dev/null
ls -la "$OUT"
fi

stamp summary
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
for f in ("gostep.jsonl", "torch.jsonl"):
    try:
        for line in open(os.path.join(out, f)):
            line = line.strip()
            if not line.startswith("{"): continue
            r = json.loads(line)
            st = sorted(r.get("step_s", []))
            med = st[len(st)//2] if st else float("nan")
            print(f'{r["impl"]:8s} {r["backbone"]} B={r["batch"]:5d} views/s {r["views_per_s"]:9.0f}  median step {med*1000:7.1f} ms  '
                  f'fwd {sorted(r.get("fwd_s",[0]))[len(r.get("fwd_s",[0]))//2]*1000:6.1f} ms  {r.get("runtime",{}).get("memory_format","")}  '
                  f'dev peak {r.get("device_peak_mib", 0):.0f} MiB  rss {r.get("peak_rss_mib",0):.0f} MiB')
    except FileNotFoundError:
        print("missing", f)
PY
