"""Helpers for the data tests: valid Criteo lines built in code (no files copied from ../shared)."""

from __future__ import annotations

CRITEO_ROW = ("1\t5\t-1\t\t3\t100\t\t0\t1\t2\t\t\t\t7\t"
              + "\t".join(["68fd1e64", "80e26c9b", "", "00000001"] + ["a73ee510"] * 22))


def criteo_line(label: str = "1", *, dense0: str = "5", cat0: str = "68fd1e64") -> str:
    """One valid Criteo line (40 fields) with a chosen label, I1 and C1."""
    fields = CRITEO_ROW.split("\t")
    fields[0], fields[1], fields[14] = label, dense0, cat0
    return "\t".join(fields)


def many_criteo_lines(n: int, seed: int = 0) -> list[str]:
    """n valid Criteo lines with varied labels and ids."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(criteo_line(str(rng.random() < 0.25 and 1 or 0), dense0=str(rng.randrange(0, 50)),
                               cat0=f"{rng.randrange(2**32):08x}"))
    return out
