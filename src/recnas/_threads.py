"""The consumer side of a background producer thread: one loop for the data reader and the prefetcher."""

from __future__ import annotations

import queue
import threading
from typing import Any
from typing import Iterator


def consume(q: "queue.Queue[tuple[str, Any]]", stop: threading.Event,
            worker: threading.Thread | None = None) -> Iterator[Any]:
    """Yield ("item", x) payloads until ("end", _); re-raise ("error", e) here, in the consumer.

    On exit (finished, error, or the consumer stopped early) `stop` is set so the producer can quit,
    and `worker` is joined briefly.
    """
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
