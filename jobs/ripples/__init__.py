"""ripples: per-symbol streaming analytics from trades and quotes, in Flink SQL (PyFlink) with
one Java process table function (``jobs/java``, ``TradeAnalytics``) that computes every metric.

Reads ``market.trades`` and ``market.quotes`` (the wire format of ``contracts.events``: JSON
keyed by symbol, event time ``t_ns`` in UTC nanoseconds) in event time. Watermarks allow
``--out-of-orderness`` (default 2 s) of disorder; a partition that is quiet for ``--idle-timeout``
is marked idle so it does not hold everyone's watermark back. Writes JSON records keyed by
symbol to ``analytics.ripples``, each ``{"symbol", "metric", "t_ns", "values": {...}}``:

``bar_1s`` / ``bar_1m``
    Tumbling-window OHLCV bars, final when the window closes. ``t_ns`` is the window end
    (exclusive), ``values``: open, high, low, close, volume (sum of sizes),
    vwap (sum(price * size) / sum(size)), count (trades).
``rolling_5m``
    At each trade (``t_ns`` = its event time): over the trades of that symbol in the 5 minutes
    up to and including it (the frame of ``RANGE BETWEEN INTERVAL '5' MINUTE PRECEDING AND
    CURRENT ROW``, both ends inclusive, in milliseconds): price_mean, price_std, price_count, and
    the same of the log return ``ln(price / previous price)``: ret_mean, ret_std, ret_count.
    Standard deviations are *sample* (n - 1) deviations, null with fewer than two values
    (price_std is taken of price minus the first price since the window was last empty, the
    same value with fewer digits lost in the sum-of-squares formula). Computed as running sums
    that each trade enters at its millisecond and leaves at the first one whose window no longer
    holds it: Flink's own RANGE-PRECEDING operator costs O(trades in the window) per trade. The
    first trade
    of a symbol has no previous price, so its log return is null and is left out of the return
    statistics.
``spread``
    At each trade (``t_ns`` = its event time): the latest quote of that symbol at or before it
    (an event-time as-of join): bid, ask, spread = ask - bid,
    mid = (bid + ask) / 2. Null values when the symbol has had no quote yet.

Event time inside Flink has millisecond precision (``t_ns / 1e6``, floored), so "order" means
millisecond order: trades within the same millisecond of one symbol are taken in arrival order
(for open/close and the previous price; the 5-minute RANGE window of each of them includes all
of that millisecond's trades, as SQL's RANGE does), and a quote in the same millisecond as a
trade counts as "at or before" it (the last one to arrive, if several). Each row waits until
the watermark passes its millisecond and rows are taken in event-time order, so a late trade
within the watermark bound still becomes its bar's open or close when it is the earliest or
latest; a row that comes behind the watermark is dropped and counted.

The out-of-orderness bound is event time. It is also the wall-clock slack the two sources get for
reading at slightly different moments (a quote read after the watermark passed its trade misses
the as-of join): 2 s on the live feed is 2 s of slack, but on a replay at 60x speed it is 33 ms,
so ``streamlines demo`` scales the bound with the replay speed.

Delivery to the output topic (``--delivery``): ``at-least-once`` (the default) makes each record
visible at once, which the live path needs (the dashboard's forming bar moves within a second);
after a restart from a checkpoint the records written since it are written again, and since
``(symbol, metric, t_ns)`` identifies a record, every store of them writes by that key and
overwrites rather than duplicates (InfluxDB's point, the GraphQL live merge by time).
``exactly-once`` writes in Kafka transactions (a transactional-id prefix per submission),
committed with each checkpoint and at the end of a bounded run, so a restart aborts what was
written after the checkpoint and a ``read_committed`` consumer (`streamlines sink influx`, the
GraphQL live feeds) sees every record once, but only with the checkpoint that commits it (every
10 s). tests/faults/test_taskmanager_killed.py checks both.

Runs as ``flink run -py jobs/ripples/__main__.py --bootstrap HOST:PORT [...]`` on a cluster
(whose config turns checkpointing on; this job turns it on too when the config has not), as
``streamlines jobs submit ripples``, or as ``python -m jobs.ripples --local`` on a mini-cluster
(``--print-sql`` prints its SQL). ``--bounded`` reads each topic up to its
latest offset at start and then ends (for tests and backfills); both topics must exist then.
An unbounded run resumes its consumer group; ``--from-time EPOCH_MS`` starts instead at the
records written since then, as ``streamlines demo`` does: a fresh replay starts again from its
first day, so an earlier run's records would put the watermark ahead of it and the job would
drop the new feed as late (``FlinkService.late_records_dropped`` counts what it drops).
"""
