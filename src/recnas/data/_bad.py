"""Bad-row accounting: count by reason, keep the first examples, enforce the policy (data.md §4 R5)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import numpy as np

from recnas.errors import DataError

REASONS = ("wrong_field_count", "truncated_last_line", "blank_line", "invalid_utf8", "bad_label", "bad_dense",
           "bad_categorical", "bad_split", "reference_offbyone")
MAX_EXAMPLES = 5


@dataclass
class BadRows:
    """Rejected rows by reason, the first few as 'file:line: field F: why', and the skip/fail policy."""

    path: str
    on_bad_row: str = "skip"
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[tuple[int, str]] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)  # kept values worth reporting, e.g. dense_nan_as_missing

    def __post_init__(self) -> None:
        if self.on_bad_row not in ("skip", "fail"):
            raise DataError(f"on_bad_row must be 'skip' or 'fail', got {self.on_bad_row!r}")

    @property
    def total(self) -> int:
        """Rows rejected so far."""
        return sum(self.counts.values())

    def add(self, reason: str, line: int, what: str, n: int = 1) -> None:
        """Record `n` rejected rows of one reason; `line`/`what` describe the first of them."""
        if n <= 0:
            return
        msg = f"{self.path}:{line}: {what}"
        if self.on_bad_row == "fail":
            raise DataError(f"{msg} (--on-bad-row fail)")
        self.counts[reason] = self.counts.get(reason, 0) + n
        self.examples.append((line, msg))
        if len(self.examples) > 4 * MAX_EXAMPLES:
            self.examples = sorted(self.examples)[:MAX_EXAMPLES]

    def note(self, what: str, n: int) -> None:
        """Count `n` kept values of kind `what` (not rejections; reported in meta.json)."""
        if n > 0:
            self.notes[what] = self.notes.get(what, 0) + int(n)

    def reset(self) -> None:
        """Forget all counts, examples and notes (the reader restarts)."""
        self.counts.clear()
        self.examples.clear()
        self.notes.clear()

    def relabel_last(self, old: str, new: str, line: int) -> None:
        """Move one count from `old` to `new` (a short last line is a truncated line, not a bad row)."""
        if self.counts.get(old, 0) <= 0:
            return
        self.counts[old] -= 1
        if not self.counts[old]:
            del self.counts[old]
        self.counts[new] = self.counts.get(new, 0) + 1
        self.examples = [(ln, m + " (truncated last line: no final newline)" if ln == line else m)
                         for ln, m in self.examples]

    def first_examples(self) -> list[str]:
        """The first few rejected rows in file order."""
        return [m for _, m in sorted(self.examples)[:MAX_EXAMPLES]]

    def check_fraction(self, rows_read: int, max_bad_fraction: float) -> None:
        """Raise DataError when more than `max_bad_fraction` of the rows read were rejected."""
        if rows_read and self.total / rows_read > max_bad_fraction:
            first = "; ".join(self.first_examples()[:3])
            raise DataError(
                f"{self.path}: {self.total} of {rows_read} rows rejected "
                f"({self.total / rows_read:.4%} > --max-bad-fraction {max_bad_fraction}); "
                f"by reason {dict(sorted(self.counts.items()))}; first: {first}"
            )


def first_true(mask: np.ndarray) -> int:
    """Index of the first True in a boolean array (caller ensures there is one)."""
    return int(np.argmax(mask))
