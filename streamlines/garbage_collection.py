"""Python's garbage collector set for a long-running process that keeps a large heap and
answers in real time: the GraphQL server, with its many long-lived subscriptions. (Tried in the
narwhal job's Python worker too: 3,493 rows/s per slot against 3,314, within the runs' spread,
so not kept there.)

With the defaults, a GraphQL server with 1,000 live subscribers stopped for a full
(generation 2) collection of 350 to 380 ms every ~9 s (benchmarks/fanout.py, 2,000 records/s;
measured with ``gc.callbacks``): every update in flight waited that long, which was the p99 of
the delivery latency. Two changes, both cheap:

- ``gc.freeze()`` once start-up is done: the modules, the schema and the rest of what start-up
  made (~244,000 objects in the server) are never garbage, and a full collection no longer
  walks them (375 to 245 ms).
- A first-generation threshold of 10,000 allocations instead of 700: objects that live for a
  few event-loop rounds die before a collection sees them instead of being promoted, so full
  collections come far less often: one in a 35 s run, while the subscribers joined, instead
  of one every ~9 s. Memory is unaffected: nearly all of it is freed by reference counting.

In the fan-out benchmark, on top of the schema's own error masking: p99 560 ms before, 302 ms
after (median of 2 runs each); the two changes together against neither: 540 to 194 ms.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

THRESHOLDS = (10_000, 10, 10)  # the defaults are (700, 10, 10)


def settle_garbage_collection() -> None:
    """Collect what start-up left, freeze the rest, and raise the first threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    log.debug("garbage collection: %d start-up objects frozen", gc.get_freeze_count())
