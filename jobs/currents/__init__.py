"""currents: per-symbol indicators from historical and live bars, and a volatility ranking
every minute (PyFlink: Flink SQL, plus one Python keyed function for the recursive indicators).

Reads bars in the wire format of ``streamlines.contracts.events`` (JSON keyed by symbol): first the
history topic ``market.bars.history`` (``HistoryBar``, written by ``streamlines gather``), then
the live ``market.bars`` (``Bar``). Each (symbol, timeframe) is one series: a symbol's daily
and minute bars never mix. The price of a bar is its split/dividend-adjusted close where the bar
carries one (history), else its close; Alpaca adjusts history back from today, so the adjusted
history continues into the live closes without a jump at splits.

Event time is the bar's ``t_ns`` (its start). The history source's watermark is held at the
epoch until it has been read to the end offsets it had at start: gather writes symbols side by
side, each in time order but years apart from one another, which a bounded out-of-orderness
would drop as late. So history is a backfill, sorted whole by the OVER windows; bars gathered
after the start come in with the next run (for instance a ``--bounded`` run after
``gather --daily``). The live source has the usual bound (``--out-of-orderness``, default 2 s);
bars later than that are dropped. It has no idle timeout (once the history has finished, an
idle live source would let the history's end-of-input watermark through and make every later
bar late), so the output waits for the first live bar, and for every partition of the live
topic to have one: keep ``market.bars`` at one partition (ingest's default) or bars flowing
into every partition. The output follows the live watermark, so history later than the live
clock waits for it: right on a live feed (the live clock is now), not on a replay, whose clock
may be years before the history's end; ``streamlines demo`` therefore runs history and live
bars as separate runs (docs/demo.md). A bar whose (symbol, timeframe, millisecond) repeats an
earlier one is dropped (the first to arrive counts): a bar gathered twice, or one in both
topics (so after a re-gather that changed the adjusted prices, the older version still counts:
start from a new history topic then). A history topic that does not exist is left out
(nothing gathered yet), and so is a missing live topic in a ``--bounded`` run; in a streaming
run that is an error.

Writes JSON records keyed by symbol to ``analytics.currents``, each ``{"symbol", "metric",
"t_ns", "values": {...}}`` with ``t_ns`` the bar's own time, so a replay overwrites. At every bar
of a series, its first included, one **per-bar record** (``streamlines.contracts.indicators``):
metric ``indicators_<tf>``, its values keyed ``<family>.<field>`` (``sma.sma_20``,
``macd.histogram``, ...) for the five families below; values still warming up are null, and a
recursive family is absent until one of its values is known. One record instead of one per
family: the consumers that join indicators to bars (narwhal) take a fifth of the records. The
InfluxDB sink stores a per-bar record as one point per family with a known value (metric
``<family>_<tf>``, e.g. ``sma_1Day``), and the GraphQL server serves the same per-family
records, so storage and queries are per family as before. The crossovers and the volatility
rounds, written at flips and every minute, are records of their own. Metric names end in the
series' timeframe; ``n`` is the bar's position in its series (1 = first bar):

``sma`` (Flink SQL)
    ``sma_<p>`` for each ``--sma`` period (default 20, 50, 200): the mean of the last p prices,
    from bar p.
``ema`` (Python)
    ``ema_<p>`` for each ``--ema`` period (default 20, 50, 200): the standard recursive EMA,
    alpha = 2 / (p + 1), seeded with the first price and then ``ema = (1 - alpha) * ema + alpha *
    price`` — pandas ``ewm(span=p, adjust=False)``. Reported from bar p (pandas
    ``min_periods=p``), when the seed's weight has fallen to (1 - alpha)^(p - 1).
``rsi`` (Python)
    ``rsi_<p>`` (``--rsi``, default 14), Wilder's: changes ``price[n] - price[n - 1]``; the first
    average gain and loss are the simple means of the first p changes (so the first RSI is at
    bar p + 1), then ``avg = (avg * (p - 1) + x) / p``. RSI = 100 - 100 / (1 + gain / loss), 100
    when the average loss is 0 and 50 when both are.
``bollinger`` (Flink SQL)
    middle = SMA(20) of the price, std = the *population* deviation (divided by n, as Bollinger
    defines the bands; pandas' ``rolling().std()`` is the sample one) of the same 20 prices,
    upper/lower = middle +- 2 std (``--bollinger``, ``--bollinger-k``). From bar 20.
``macd`` (Python)
    macd = EMA(12) - EMA(26), signal = EMA(9) of macd, histogram = macd - signal (``--macd``),
    EMAs as above, all seeded at the first bar (so macd starts at 0). macd from bar 26, signal
    and histogram from bar 34 (26 + 9 - 1).
``cross_<kind><fast>_<kind><slow>_<tf>`` (Python, of the SQL's SMAs and its own EMAs)
    For each ``--crossovers`` pair (default sma:50:200 and ema:12:26): written only at the bar
    where the state is first known (both averages reported) and at every bar where it flips, so
    the record's t_ns is the time it flipped. signal = +1 (fast above slow: bullish) or -1
    (bearish); cross = 0 for the first state, 1 for a flip; fast and slow. Equal averages keep
    the previous state. The state at any time is the latest such record at or before it.
``volatility_24h`` (Flink SQL; 1-minute bars only, stocks and crypto alike)
    Every minute T, for every symbol with a 1-minute bar that started in [T - 24 h, T): std =
    the *sample* (n - 1) deviation of those bars' closes (null for one bar), mean, count, and
    rel_std = std / mean (comparable across price levels). ``t_ns`` = T for every symbol of
    the round, so the record time is the round's ``updated_at`` and "every symbol by volatility
    as of T" is the records at T (one InfluxDB query). Equal prices give exactly 0. A round is
    final when the watermark passes T, i.e. once a bar starting at T + the out-of-orderness or
    later has been read: with minute bars published as their minute ends, about 2 minutes
    after T.

Where each piece runs, and why. SMA, Bollinger bands and the volatility rounds are Flink SQL
(OVER windows and a hopping window, in the JVM). EMA, RSI and MACD are recursive
(each value depends on the previous one), which SQL cannot express, and PyFlink runs Python
aggregate functions in streaming OVER windows only as pandas UDAFs over *bounded* windows, which
hand the whole window to Python at each row (flink-python 2.0.2 has no streaming over-window
operator for general Python UDAFs, so an accumulator that keeps the last EMA is not available
there either). So they are one keyed process function in
the DataStream API (``jobs/currents/process.py``): the ordered, de-duplicated bars with their
SMAs and Bollinger values go from SQL to it, one Python call per bar with O(1) state; it adds
the recursive values, writes the per-bar record, and the crossovers (a state carried from bar
to bar, which in SQL took two more OVER windows), to the same sink.

Precision (every value is checked against pandas to 1e-9 relative). Flink's STDDEV_* is a
sum-of-squares formula; for Bollinger it would also retract and accumulate rounding over the
series, so the deviation is two-pass over the window's 20 values (LAG), taken of their exact
differences from the current price; for the 24-hour deviation (no retraction in a hopping
window) the prices are taken minus the symbol's first minute close, which keeps the
cancellation small: the relative error is about 1e-16 times ((mean - first close) / std)^2.
SMAs are Flink's AVG over a sliding ROWS window (a running sum, ~1e-14 relative).

Delivery is at-least-once (a restart from a checkpoint may repeat records); ``(symbol,
metric, t_ns)`` identifies a record. Runs as ``flink run -py jobs/currents/__main__.py
--bootstrap HOST:PORT [...]`` on a cluster whose Python has this project installed (the stack's
cluster runs the project's venv), as ``streamlines jobs submit currents``, or as ``python -m
jobs.currents --local`` on a mini-cluster (``--print-sql`` prints its SQL). ``--bounded``
reads the live topic only up to its latest offsets at start too, and ends. ``--from-time
EPOCH_MS`` starts the live topic at the records written since then (a replay that starts again
from its first day, as in the demo); the history topic is read whole regardless.
"""
