#!/usr/bin/env bash
# Distributed recnas on CPU: a 2-process supernet training under torchrun (gloo), then a
# 2-process search over that supernet, on a small synthetic Criteo-schema cache.
#
#   examples/ddp_cpu.sh [OUT_DIR]        (default runs/ddp_cpu; the steps below are re-run fresh)
#
# Environment: PYTHON (default .venv/bin/python), NPROC (default 2), ROWS (default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
NPROC=${NPROC:-2}
ROWS=${ROWS:-20000}
OUT=${1:-runs/ddp_cpu}
# torchrun == python -m torch.distributed.run; --standalone picks a free local rendezvous port
TORCHRUN=("$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$NPROC")
export OMP_NUM_THREADS=1  # one thread per rank: the ranks share the cores

start=$(date +%s)
mkdir -p "$OUT"
rm -f "$OUT"/journal*.jsonl  # a fresh search (run the search line again by hand to see a resume)

echo "== synthetic cache: $ROWS rows"
"$PYTHON" -m recnas synth --rows "$ROWS" --out "$OUT/cache" --cache --table-cap 2000 --seed 0

echo "== supernet training: $NPROC ranks, global batch 256 (256/$NPROC rows per rank and step)"
"${TORCHRUN[@]}" -m recnas supernet train --data "$OUT/cache" --out "$OUT" --space small \
    --batch-size 256 --epochs 1 --device cpu --log-every 10 --ckpt-every 20 --fresh

echo "== search: $NPROC ranks score shares of each batch of candidates"
"${TORCHRUN[@]}" -m recnas search --supernet "$OUT/supernet.pt" --data "$OUT/cache" --out "$OUT" \
    --population 8 --sample 4 --generations 1 --children 4 --finetune-steps 10 \
    --val-rows 2048 --device cpu --threads 1 --no-progress

echo "checkpoint: $OUT/supernet.pt"
echo "journal: $OUT/journal.jsonl"
echo "seconds: $(( $(date +%s) - start ))"
