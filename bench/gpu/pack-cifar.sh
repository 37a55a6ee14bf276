#!/bin/bash
# Splits the real CIFAR-10 (six 30 MB files) into three parts of two files
# under .gpu/cifar/ (ignored by git), so that three device calls in a row
# can carry one part each: one call carries at most 64 MiB. See run.sh's
# gpushort section.
#
#   bash bench/gpu/pack-cifar.sh [DATA_DIR]   # default ../shared/data/cifar-10-batches-bin
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${1:-../shared/data/cifar-10-batches-bin}
rm -rf .gpu/cifar
i=0
for pair in "data_batch_1.bin data_batch_2.bin" "data_batch_3.bin data_batch_4.bin" "data_batch_5.bin test_batch.bin"; do
  i=$((i + 1))
  mkdir -p ".gpu/cifar/part$i"
  for f in $pair; do cp "$src/$f" ".gpu/cifar/part$i/$f"; done
done
du -sh .gpu/cifar/part*
