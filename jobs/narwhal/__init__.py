"""narwhal: a Narwhal model's predictions in the stream (PyFlink: Flink SQL with two Java
process table functions, then one vectorised Python function that computes the features and
scores them).

Reads, like currents, the gathered bars (``market.bars.history``, ``HistoryBar``) and then the
live ones (``market.bars``, ``Bar``), only those of the model's timeframe, and the currents
job's per-bar indicator records (``analytics.currents``: metric ``indicators_<tf>``, one
record per bar with every family's values keyed ``<family>.<field>``,
``streamlines.contracts.indicators``; the topic's crossover and volatility records are left
out). A bar's values are its split/dividend-adjusted
ones where it has them (history), else the values as traded, column by column: what
``ml.data`` gives batch scoring, and the close the currents job computes its indicators on.
History is read to its end offsets at start with its watermark held at the epoch, as in
currents, so the bars come out of the ``ordered_bars`` function (``jobs/java``, OrderedBars:
what currents' OVER window does, for a tenth of the cost) per symbol in event-time order,
repeats dropped. Writes ``contracts.events.Prediction`` JSON keyed by symbol to
``analytics.predictions``: ``symbol``, ``t_ns`` (the bar's start), ``model_id`` (of the model
that made it), ``timeframe``, ``horizon``, ``value`` (probability of a rise, or the forward log
return). ``(symbol, model_id, t_ns)`` identifies a prediction, so a re-run repeats, never
contradicts.

The steps, and why each runs where it does:

SQL (``sql.py``)
    The sources; the bars ordered and de-duplicated (a Java process table function); each
    per-bar indicator record flattened into the feature inputs it carries
    (``ml.features.INDICATOR_COLUMNS``: ``rsi.rsi_14`` as ``rsi_14``, ``macd.histogram`` as
    ``macd_histogram``, ``bollinger.upper`` as ``bollinger_upper`` ...); bars and indicator
    rows as one table (UNION ALL); then ``settled_bars`` (``jobs/java``, SettledBars,
    partitioned by symbol) joins each bar with its indicators once they are in (below) and
    gives it with the last ``max_lookback`` bars (20) before it: their times and values as two
    arrays.
Features and scores (``lookback.py``, ``udf.py``, ``scorer.py``): a pandas scalar function
    It holds no state: each bar comes with its look-back, so Flink hands it batches of bars as
    Arrow columns (no per-record round trip between the JVM and Python). Per batch and symbol
    it rebuilds the runs of consecutive bars and computes their features with one
    ``ml.features.feature_frame`` call over the run and its look-back: the one feature code
    path of training and batch scoring, whose value at t depends on the window only, so the
    stream's features equal the batch ones bit for bit. It computes every feature the stream
    can (all but ``spread_rel``, which needs ripples' quotes), so a newer model with other
    features scores without a restart, then one ``ml.artifacts.predict`` (one
    ``Booster.predict``) per batch. The model is loaded once per worker, in ``open``. Before
    this, a keyed Python function held each symbol's window and got the bars and the indicator
    records one by one: six records per bar then (the bar and one record per indicator
    family) through PyFlink's per-record path (benchmarks/narwhal.py has the figures).

Waiting for a bar's indicators: a function keyed by symbol, not an event-time join. The
currents topic starts with its history, written symbol after symbol (its OVER windows release a
whole backfill at once), so its event time runs years out of order: an interval or window join
would drop most of it as late, and a watermark cannot say when a bar's indicators are
complete. What is in order is each symbol's per-bar records (one operator writes them, keyed
by symbol into one partition, at every bar of the series, its first included). So a bar waits
in ``settled_bars`` until its record or one of a later bar has arrived (none at its time, or
a null value in it, means NaN there, as in batch where the store has none), and the bars
before it have gone (``window.py``'s ``SymbolWindow`` states the rule in Python; a test holds
the two equal). At the end of a ``--bounded`` run the final watermark fires a timer that sends what
still waits with the indicators that came. In a streaming run a bar waits for its
indicators: run currents beside narwhal. Currents writes a bar's indicators once its own
watermark has passed the bar, i.e. once the next bar has come, so a prediction follows one
bar later too; Flink hands the Python function what has come every second at the latest
(the bundle time).

A new model without a restart: ``--model latest:<config name>`` resolves the newest model of
that training config's name in the store (``--model-dir``, default the settings' store) and
each worker's scorer looks again every ``--reload-seconds`` (default 60), switching to a newer
model of the same timeframe whose features the stream computes (logged; one it cannot use is
logged and skipped). ``--model <id>`` and ``--model-path <model.tar.gz>`` fix one model. The
store must be readable at the same path on the client and on every task manager (the local
stack: one machine).

Delivery is at-least-once. Runs as ``flink run -py jobs/narwhal/__main__.py --bootstrap
HOST:PORT --model ...``, as ``streamlines jobs submit narwhal``, or as ``python -m
jobs.narwhal --local`` on a mini-cluster; ``--print-sql`` prints its SQL (with ``--timeframe``
it needs no model). ``--bounded`` reads every topic only up to its latest offsets at start,
and ends.
"""
