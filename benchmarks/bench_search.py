"""Search-side throughput (issue 4 items 1 and 3; issue 7 item 3); prints ONE JSON line.

1. seconds_per_candidate: CandidateScorer at the spec's defaults (method.md §5): NASRec-Full
   on reference_schema("criteo", cap=500000), head fine-tune 500 steps at batch 512 (lr 0.04, 50
   warm-up, clip 5), val log loss on 1,228,800 rows; averaged over --candidates sampled
   architectures. Also finetune_samples_per_s and eval_samples_per_s (body forward + head).
   Reference: ~1,600 s per candidate on a 2-core x86 machine with 2 threads (target >= 4x fewer);
   on an H200 9.6 s (target <= 1.9 s).
2. standalone_full_tables_samples_per_s: the published Criteo-Full NASRecNet trained from scratch
   with the full reference Criteo tables (542M parameters) by recnas.train.train (sparse Adagrad
   rows); reference 66 samples/s on 2 threads, target >= 10x.

Synthetic random batches (uniform row ids, random labels): the timings do not depend on the values.

    python benchmarks/bench_search.py [--device cpu|cuda] [--threads 2] [--candidates 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import torch

from recnas.data.batch import Batch
from recnas.data.schema import reference_schema
from recnas.nn import Supernet
from recnas.nn import build_model
from recnas.space import get_space
from recnas.space import load_architecture
from recnas.space import sample_arch
from recnas.train import CandidateScorer
from recnas.train import train

REF_SECONDS_PER_CANDIDATE = {"cpu": 1600.0, "cuda": 9.6}  # 2-core x86 / H200 (Full)
TARGET_SECONDS_RATIO = {"cpu": 4.0, "cuda": 9.6 / 1.9}
REF_STANDALONE_FULL = 66.0
TARGET_STANDALONE_RATIO = 10.0
SHARED = Path(os.environ.get("RECNAS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
PUBLISHED = SHARED / "nasrec_configs/criteo/ea_criteo_kaggle_xlarge_best_1shot.json"


def random_batches(
    schema, *, rows: int, batch: int, device: torch.device, seed: int
) -> list[Batch]:
    """`rows` random rows of `schema` as batches of `batch` on `device`."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        sparse = torch.stack(
            [torch.randint(0, s, (n,), generator=g, dtype=torch.int32) for s in schema.table_sizes],
            1,
        )
        out.append(
            Batch(
                torch.randn(n, schema.num_dense, generator=g),
                sparse,
                torch.randint(0, 2, (n,), generator=g).float(),
            ).to(device)
        )
    return out


def bench_scoring(args: argparse.Namespace, device: torch.device) -> dict:
    """Seconds per candidate at the spec's defaults, with the fine-tune / eval split."""
    schema = reference_schema("criteo", cap=500_000)
    space = get_space("full")
    torch.manual_seed(0)
    net = Supernet(schema, space).to(device).eval()
    ft = random_batches(schema, rows=args.finetune_steps * 512, batch=512, device=device, seed=1)
    val = random_batches(schema, rows=args.val_rows, batch=8192, device=device, seed=2)
    scorer = CandidateScorer(
        net,
        None,
        finetune_steps=args.finetune_steps,
        batch_size=512,
        device=device,
        batches=(ft, val),
    )
    rng = random.Random(args.seed)
    archs = [sample_arch(space, rng) for _ in range(args.candidates)]
    scorer.score(archs[0], finetune_steps=2)  # warm-up: allocator, kernels, autotuning
    cpu0 = time.process_time()
    runs = [scorer.score(a) for a in archs]
    cpu = (time.process_time() - cpu0) / len(runs)  # all threads; less load-sensitive
    secs = [r["seconds"] for r in runs]
    ft_s = sum(r["finetune_seconds"] for r in runs)
    ev_s = sum(r["eval_seconds"] for r in runs)
    return {
        "seconds_per_candidate": sum(secs) / len(secs),
        "seconds_each": [round(s, 2) for s in secs],
        "process_cpu_seconds_per_candidate": cpu,
        "finetune_samples_per_s": len(runs) * args.finetune_steps * 512 / ft_s,
        "eval_samples_per_s": len(runs) * scorer.val_rows / ev_s,
        "candidates": len(runs),
        "finetune_steps": args.finetune_steps,
        "finetune_batch": 512,
        "val_rows": scorer.val_rows,
        "extrapolated": False,
    }


def _standalone_rate(arch, schema, args: argparse.Namespace, device: torch.device) -> tuple:
    """(samples/s, parameters, samples per CPU-second) of training `arch` on `schema`."""
    torch.manual_seed(0)
    model = build_model(arch, schema).to(device)
    params = sum(p.numel() for p in model.parameters())
    bs = args.standalone_batch
    batches = random_batches(schema, rows=bs * 32, batch=bs, device=device, seed=3)
    train(model, batches, lr=0.16, steps=3, progress=False, reseed=False, device=device)  # warm-up pass
    steps = args.standalone_steps
    cpu0 = time.process_time()
    res = train(model, batches, lr=0.16, steps=steps, progress=False, reseed=False, log_every=steps,
                device=device)
    per_cpu_s = res.samples / (time.process_time() - cpu0)  # samples per CPU-second, all threads
    return res.samples_per_s, params, per_cpu_s


def bench_standalone(args: argparse.Namespace, device: torch.device) -> dict:
    """Training samples/s of the published Criteo-Full NASRecNet, full tables and capped at 500k."""
    if PUBLISHED.is_file():
        arch, which = load_architecture(PUBLISHED), "published Criteo-Full NASRecNet"
    else:
        arch, which = sample_arch(get_space("full"), random.Random(0)), "sampled Full architecture"
    full, params, full_cpu = _standalone_rate(arch, reference_schema("criteo"), args, device)
    capped, _, capped_cpu = _standalone_rate(
        arch, reference_schema("criteo", cap=500_000), args, device
    )
    return {
        "standalone_full_tables_samples_per_s": full,
        "standalone_capped_tables_samples_per_s": capped,
        "standalone_full_tables_samples_per_cpu_s": full_cpu,
        "standalone_capped_tables_samples_per_cpu_s": capped_cpu,
        "standalone_arch": which,
        "standalone_params": params,
        "standalone_batch": args.standalone_batch,
        "standalone_steps": args.standalone_steps,
        "standalone_layernorm": arch.layernorm,
        "reference_standalone_capped_tables_samples_per_s": 567.0,
    }


def main() -> None:
    """Run both measurements and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--candidates", type=int, default=2, help="sampled architectures to score")
    p.add_argument("--finetune-steps", type=int, default=500)
    p.add_argument("--val-rows", type=int, default=150 * 8192)
    p.add_argument("--standalone-steps", type=int, default=100)
    p.add_argument(
        "--standalone-batch", type=int, default=256, help="the spec's final Criteo-Full batch"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-standalone", action="store_true")
    p.add_argument("--skip-scoring", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    out = {
        "bench": "search",
        "device": args.device,
        "card": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "threads": args.threads,
    }
    if not args.skip_scoring:
        out.update(bench_scoring(args, device))
        ref = REF_SECONDS_PER_CANDIDATE[args.device]
        out.update(
            reference_seconds_per_candidate=ref,
            seconds_ratio=ref / out["seconds_per_candidate"],
            seconds_ratio_target=TARGET_SECONDS_RATIO[args.device],
        )
    if not args.skip_standalone:
        out.update(bench_standalone(args, device))
        r = out["standalone_full_tables_samples_per_s"] / REF_STANDALONE_FULL
        out.update(
            reference_standalone_full_tables_samples_per_s=REF_STANDALONE_FULL,
            standalone_ratio=r,
            standalone_ratio_target=TARGET_STANDALONE_RATIO,
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
