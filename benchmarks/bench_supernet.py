"""Supernet training throughput (issue 3 item 6): samples/s of sampled and full-path steps; ONE JSON line.

Setup: reference_schema("criteo", cap=500000) (26 tables, dim 16), NASRec-Full, 7 blocks, batch 512,
default sampling (single-operator any-connection), Adagrad lr 0.12 eps 1e-2 (sparse embedding rows),
global clip 5, synthetic random batches. CUDA runs under bf16 autocast. The reference implementation
reaches 228 samples/s sampled and 77 full-path on a 2-core x86 machine with 2 threads; target >= 3x.

    python benchmarks/bench_supernet.py [--device cpu|cuda] [--threads N] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F

from recnas.data.schema import reference_schema
from recnas.nn import Supernet
from recnas.train import clip_grad_norm
from recnas.space import full_path
from recnas.space import get_space
from recnas.space import sample_path

REF_SAMPLED = 228.0
REF_FULLPATH = 77.0
TARGET_RATIO = 3.0
BATCH = 512


def _batches(schema, n: int, device: torch.device, seed: int) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        dense = torch.randn(BATCH, schema.num_dense, generator=g)
        sparse = torch.stack([torch.randint(0, s, (BATCH,), generator=g) for s in schema.table_sizes], 1)
        label = torch.randint(0, 2, (BATCH,), generator=g).float()
        out.append((dense.to(device), sparse.to(device), label.to(device)))
    return out


def _run(model, opt, batches, arch_fn, steps: int, device: torch.device) -> tuple[float, float]:
    """(wall-clock samples/s, samples per process-CPU-second x threads) over `steps` steps after 2 warm-up."""
    params = list(model.parameters())
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    t0 = 0.0
    for i in range(steps + 2):
        if i == 2:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0, c0 = time.perf_counter(), time.process_time()
        dense, sparse, label = batches[i % len(batches)]
        arch = arch_fn()
        with amp:
            logits = model(dense, sparse, arch)
        loss = F.binary_cross_entropy_with_logits(logits.float(), label)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm(params, 5.0)
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return steps * BATCH / wall, steps * BATCH * torch.get_num_threads() / max(cpu, 1e-9)


def main() -> None:
    """Parse flags, run both modes, print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20, help="timed sampled steps (full path: steps // 4)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    schema = reference_schema("criteo", cap=500_000)
    space = get_space("full")
    model = Supernet(schema, space, layernorm=True).to(device)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.12, eps=1e-2)
    batches = _batches(schema, 8, device, args.seed)
    rng = random.Random(args.seed)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    load0 = os.getloadavg()[0]
    sampled, sampled_cpu = _run(model, opt, batches, lambda: sample_path(space, rng, "default"), args.steps, device)
    fp = full_path(space)
    full, full_cpu = _run(model, opt, batches, lambda: fp, max(2, args.steps // 4), device)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    print(json.dumps({
        "bench": "supernet", "device": args.device,
        "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "threads": args.threads, "batch": BATCH, "steps": args.steps,
        "sampled_samples_per_s": round(sampled, 1), "fullpath_samples_per_s": round(full, 1),
        "peak_mem_gib": round(peak, 3),
        # under CPU contention wall-clock is inflated; samples per (process CPU seconds / threads) is not
        "sampled_samples_per_cpu_s": round(sampled_cpu, 1), "fullpath_samples_per_cpu_s": round(full_cpu, 1),
        "loadavg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)], "cpu_count": os.cpu_count(),
        "reference_sampled_samples_per_s": REF_SAMPLED, "reference_fullpath_samples_per_s": REF_FULLPATH,
        "ratio": round(sampled / REF_SAMPLED, 2), "fullpath_ratio": round(full / REF_FULLPATH, 2),
        "target_ratio": TARGET_RATIO, "meets_target": sampled / REF_SAMPLED >= TARGET_RATIO,
    }))


if __name__ == "__main__":
    main()
