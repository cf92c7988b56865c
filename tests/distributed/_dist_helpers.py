"""Helpers of the torchrun tests: a tiny synthetic cache, free ports, and torchrun's environment."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def make_cache(path: Path, *, rows: int = 2048) -> Path:
    """A small synthetic Criteo-schema cache with small tables."""
    from recnas.data import synth_cache

    return synth_cache(path, rows=rows, seed=0, table_cap=500)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun_env(rank: int, world: int, port: int) -> dict[str, str]:
    """The variables torchrun sets for one local rank, plus one thread per process (2 cores)."""
    return {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1"}


def cli(argv: list[str]) -> int:
    """Run `recnas ARGV` in this process, with one torch thread."""
    from recnas.cli.main import main

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what a torchrun rank gets; the results are compared across them
    try:
        return main(argv)
    finally:
        torch.set_num_threads(threads)


def subprocess_env(rank: int, world: int, port: int) -> dict[str, str]:
    """os.environ plus torchrun's variables, with this checkout's src on the path."""
    env = {**os.environ, **torchrun_env(rank, world, port)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(Path(__file__).parent),
                                         env.get("PYTHONPATH", "")])
    return env


PYTHON = sys.executable
