package dev.streamlines.flink;

import org.apache.flink.metrics.Counter;
import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

import java.util.Arrays;

/**
 * The ripples job's whole per-symbol computation in one operator: each symbol's trades in
 * event-time order, their 1-second and 1-minute bars, each trade's 5-minute rolling statistics
 * and its as-of spread. What the job computed before with eight SQL operators (two OVER windows
 * for the previous price and the anchor, two tumbling windows, a RANGE OVER window over entry and
 * exit rows, a deduplication and a temporal join) and three keyed exchanges, with the same
 * records out.
 *
 * <p>Order: a row waits until the watermark passes it: a trade or quote that arrives in
 * event-time order among its kind in a ring ({@link WaitingTrades}, {@link WaitingQuotes}), any
 * other in a bucket of its millisecond (so does a quote whose millisecond has a bucket). One
 * timer per symbol, at its earliest waiting millisecond or open bar's end, takes every
 * millisecond the watermark has passed in order: the latest waiting quote up to it and then the
 * bucket's quote (the last to arrive) become the symbol's latest, and its trades, the ring's
 * and then the bucket's, which arrived later, are taken in arrival order. A row at or behind the watermark is late: dropped and counted in
 * the operator's {@code numLateRecordsDropped} metric, as the OVER windows did (the function
 * takes no {@code on_time} argument, with which Flink would drop such rows without a count). A
 * row's millisecond is read from {@code t_ns}, as the job's {@code ts} is.
 *
 * <p>State: map views only ({@link Progress}, {@link Rolling} and the open bars as {@code
 * double[]} entries of one; the buckets, the rolling window, the two rings, the symbol).
 * Flink passes a map view as is and reads an entry when the function asks for it; a value state
 * it converts and hashes on every call.
 *
 * <p>The records, in the shapes of {@code streamlines.contracts.metrics}:
 *
 * <ul>
 *   <li>{@code bar_1s}, {@code bar_1m}: OHLCV, VWAP (null on zero volume) and count of the
 *       trades in [start, end), keyed by the end in ns; out when the watermark passes the end.
 *   <li>{@code rolling_5m}, per trade: mean, sample deviation and count of the prices and of the
 *       log returns (to the symbol's previous trade) of the trades in [t - 5 min, t] at
 *       millisecond precision, peers in the trade's millisecond included. Running sums: a trade
 *       enters them at its millisecond and leaves them at the first one whose window no longer
 *       holds it; the deviation of the prices is taken of price - the first price since the window
 *       was last empty, which stays small next to the mean.
 *   <li>{@code spread}, per trade: bid, ask, spread and mid of the latest quote at or before the
 *       trade's millisecond (null before the symbol's first quote).
 * </ul>
 *
 * <p>SQL: {@code trade_analytics(input => TABLE events PARTITION BY symbol)} over a table with
 * a watermark and rows of {@code t_ns BIGINT} (ns), {@code is_quote BOOLEAN}, DOUBLE {@code
 * price, size} (trades) and {@code bid_price, ask_price} (quotes); out: {@code symbol} and
 * {@code record}, the record's JSON ({@link AnalyticsRecordJson}) for a raw-format sink keyed by
 * symbol, without a time attribute.
 */
@FunctionHint(output = @DataTypeHint(TradeAnalytics.RECORD))
public class TradeAnalytics extends ProcessTableFunction<Row> {

    static final String RECORD = "ROW<record BYTES>";
    static final String BAR_1S = "bar_1s";
    static final String BAR_1M = "bar_1m";
    static final String ROLLING = "rolling_5m";
    static final String SPREAD = "spread";
    static final long ROLLING_MS = 5 * 60 * 1000;
    static final long SECOND_MS = 1000;
    static final long MINUTE_MS = 60_000;
    static final long NS_PER_MS = 1_000_000L;
    static final double NONE = Double.NaN; // a null value in a record

    /**
     * Per symbol, what every call reads: the symbol's timer, its waiting quotes ({@link
     * WaitingQuotes}) and its latest quote. Kept as a {@code double[]} in the {@code values}
     * map view, not as a POJO value state: Flink converts such a state field by field, boxed,
     * and hashes it on every call to see whether it changed (a quarter of the operator's CPU
     * with all the running values in it). A long is exact in a double up to 2^53: epoch
     * milliseconds and the rings' counters.
     */
    static final class Progress {
        static final Integer KEY = 0;
        boolean timerSet; // the symbol's timer, at timerMs
        long timerMs;
        final Ring quotes = new Ring(); // WaitingQuotes
        boolean quoted;
        double bid;
        double ask;
        final Ring trades = new Ring(); // WaitingTrades
        long buckets; // how many are waiting in pending

        /** The symbol's, or null before its first row. */
        static Progress read(MapView<Integer, double[]> values) throws Exception {
            double[] v = values.get(KEY);
            if (v == null) {
                return null;
            }
            Progress p = new Progress();
            p.timerSet = v[0] != 0;
            p.timerMs = (long) v[1];
            p.quotes.read(v, 2);
            p.quoted = v[6] != 0;
            p.bid = v[7];
            p.ask = v[8];
            p.trades.read(v, 9);
            p.buckets = (long) v[13];
            return p;
        }

        void write(MapView<Integer, double[]> values) throws Exception {
            double[] v = new double[14];
            v[0] = timerSet ? 1 : 0;
            v[1] = timerMs;
            quotes.write(v, 2);
            v[6] = quoted ? 1 : 0;
            v[7] = bid;
            v[8] = ask;
            trades.write(v, 9);
            v[13] = buckets;
            values.put(KEY, v);
        }
    }

    /**
     * Per symbol, what only the timer reads (the {@code values} entry next to {@link Progress}):
     * the trades in the rolling window are {@code window[head, tail)}, each {@code {ms, price,
     * log return or NaN}}; {@code headMs} the first one's millisecond. The sums are those of the
     * window's trades.
     */
    static final class Rolling {
        static final Integer KEY = 1;
        double anchor;
        double previousPrice;
        long head;
        long tail;
        long headMs;
        double count;
        double priceSum;
        double devSum;
        double devSquares;
        double retCount;
        double retSum;
        double retSquares;

        static Rolling read(MapView<Integer, double[]> values) throws Exception {
            double[] v = values.get(KEY);
            Rolling r = new Rolling();
            if (v != null) {
                r.anchor = v[0];
                r.previousPrice = v[1];
                r.head = (long) v[2];
                r.tail = (long) v[3];
                r.headMs = (long) v[4];
                r.count = v[5];
                r.priceSum = v[6];
                r.devSum = v[7];
                r.devSquares = v[8];
                r.retCount = v[9];
                r.retSum = v[10];
                r.retSquares = v[11];
            }
            return r;
        }

        void write(MapView<Integer, double[]> values) throws Exception {
            values.put(KEY, new double[] {
                anchor, previousPrice, head, tail, headMs, count, priceSum, devSum, devSquares,
                retCount, retSum, retSquares
            });
        }
    }

    /**
     * A bar still open, as a {@code double[]} in the state: a POJO there is converted field by
     * field, boxed, on every call of the function (~8 % of the job's CPU with two of them).
     */
    static final class OpenBar {
        static final int WINDOW = 0; // start / width
        static final int OPEN = 1;
        static final int HIGH = 2;
        static final int LOW = 3;
        static final int CLOSE = 4;
        static final int VOLUME = 5;
        static final int PRICE_VOLUME = 6;
        static final int COUNT = 7;

        private OpenBar() {}

        static double[] of(long window, double price, double size) {
            double[] bar = new double[COUNT + 1];
            bar[WINDOW] = window;
            bar[OPEN] = price;
            bar[HIGH] = price;
            bar[LOW] = price;
            add(bar, price, size);
            return bar;
        }

        static void add(double[] bar, double price, double size) {
            bar[HIGH] = Math.max(bar[HIGH], price);
            bar[LOW] = Math.min(bar[LOW], price);
            bar[CLOSE] = price;
            bar[VOLUME] += size;
            bar[PRICE_VOLUME] += price * size;
            bar[COUNT] += 1;
        }

        static long window(double[] bar) {
            return (long) bar[WINDOW];
        }
    }

    /**
     * Where rows that arrive in event-time order wait in a map view of their own: entries {@code
     * [head, tail)}, each a {@code double[]} that starts with its millisecond; {@code headMs} and
     * {@code tailMs} the first and the last one's.
     */
    static final class Ring {
        long head;
        long tail;
        long headMs;
        long tailMs;

        boolean isEmpty() {
            return head == tail;
        }

        /** The first entry's millisecond, or Long.MAX_VALUE when none waits. */
        long firstMs() {
            return isEmpty() ? Long.MAX_VALUE : headMs;
        }

        /** False when {@code entry} is older than the newest waiting one: not taken. */
        boolean add(MapView<Long, double[]> view, double[] entry) throws Exception {
            long ms = (long) entry[0];
            if (!isEmpty() && ms < tailMs) {
                return false;
            }
            if (isEmpty()) {
                headMs = ms;
            }
            view.put(tail++, entry);
            tailMs = ms;
            return true;
        }

        void read(double[] v, int at) {
            head = (long) v[at];
            tail = (long) v[at + 1];
            headMs = (long) v[at + 2];
            tailMs = (long) v[at + 3];
        }

        void write(double[] v, int at) {
            v[at] = head;
            v[at + 1] = tail;
            v[at + 2] = headMs;
            v[at + 3] = tailMs;
        }
    }

    /**
     * Quotes waiting for the watermark outside the buckets (a bucket per quote's millisecond was
     * half the buckets, with as many quotes as trades, and a bucket is a POJO converted on each
     * read and write): those that arrive in event-time order, in {@code quotes[head, tail)} as
     * {@code {ms, bid, ask}}. A quote older than the newest waiting one waits in its
     * millisecond's bucket instead. Before each bucket the timer takes the waiting quotes up to
     * its millisecond; a row takes those at or behind the watermark (no trade there is waiting:
     * the timer has taken it, or it would be late). An entry per quote, so a quote costs
     * one put and one remove however many wait.
     */
    static final class WaitingQuotes {

        private WaitingQuotes() {}

        /** False when the quote is older than the newest waiting one: not taken. */
        static boolean add(
                Progress state, MapView<Long, double[]> quotes, long ms, double bid, double ask)
                throws Exception {
            return state.quotes.add(quotes, new double[] {ms, bid, ask});
        }

        /** The latest of the quotes at or before {@code ms} becomes the symbol's, those leave. */
        static void takeUpTo(Progress state, MapView<Long, double[]> quotes, long ms)
                throws Exception {
            Ring ring = state.quotes;
            if (ring.firstMs() > ms) {
                return;
            }
            double[] quote = quotes.get(ring.head);
            while (quote != null && quote[0] <= ms) {
                state.quoted = true;
                state.bid = quote[1];
                state.ask = quote[2];
                quotes.remove(ring.head++);
                quote = ring.isEmpty() ? null : quotes.get(ring.head);
            }
            if (quote != null) {
                ring.headMs = (long) quote[0];
            }
        }
    }

    /**
     * Trades waiting for the watermark outside the buckets, as the quotes do ({@link
     * WaitingQuotes}): those that arrive in event-time order, in {@code trades[head, tail)} as
     * {@code {ms, ns within the ms, price, size}}. A trade older than the newest waiting one waits
     * in its millisecond's bucket, after the ring's trades of that millisecond, which arrived
     * before it (the newest waiting trade cannot leave before the watermark passes it).
     */
    static final class WaitingTrades {

        private WaitingTrades() {}

        /** False when the trade is older than the newest waiting one: not taken. */
        static boolean add(
                Progress state, MapView<Long, double[]> trades, long tNs, double price, double size)
                throws Exception {
            long ms = Math.floorDiv(tNs, NS_PER_MS);
            return state.trades.add(trades, new double[] {ms, tNs - ms * NS_PER_MS, price, size});
        }

        /**
         * The waiting trades of millisecond {@code ms} (the first ones) leave into {@code to},
         * which keeps the next one read (the new head) for the next call.
         */
        static void take(Progress state, MapView<Long, double[]> trades, long ms, Group to)
                throws Exception {
            Ring ring = state.trades;
            while (ring.firstMs() == ms) {
                double[] trade = to.next != null ? to.next : trades.get(ring.head);
                trades.remove(ring.head++);
                to.add(ms * NS_PER_MS + (long) trade[1], trade[2], trade[3]);
                to.next = null;
                if (!ring.isEmpty()) {
                    to.next = trades.get(ring.head);
                    ring.headMs = (long) to.next[0];
                }
            }
        }
    }

    /** The trades of one millisecond, in arrival order, as the timer takes them. */
    static final class Group {
        long[] tNs = new long[8];
        double[] price = new double[8];
        double[] size = new double[8];
        int n;
        double[] next; // WaitingTrades' head, once read in this timer call

        void add(long ns, double p, double s) {
            if (n == tNs.length) {
                tNs = Arrays.copyOf(tNs, n * 2);
                price = Arrays.copyOf(price, n * 2);
                size = Arrays.copyOf(size, n * 2);
            }
            tNs[n] = ns;
            price[n] = p;
            size[n] = s;
            n++;
        }
    }

    /** The rows of one millisecond: its trades in arrival order and its last quote. */
    public static class Bucket {
        public long[] tradeNs;
        public double[] price;
        public double[] size;
        public boolean quoted;
        public double bid;
        public double ask;

        public Bucket() {}
    }

    // The input columns, read by position (InputColumns); the constants below index them.
    private static final String[] COLUMNS = {
        "t_ns", "symbol", "is_quote", "bid_price", "ask_price", "price", "size"
    };
    private static final int T_NS = 0;
    private static final int SYMBOL = 1;
    private static final int IS_QUOTE = 2;
    private static final int BID = 3;
    private static final int ASK = 4;
    private static final int PRICE = 5;
    private static final int SIZE = 6;

    // The open bars' entries in the values map view, beside Progress and Rolling.
    static final Integer SECOND_BAR = 2;
    static final Integer MINUTE_BAR = 3;
    static final Integer SYMBOL_KEY = 0;

    private transient Counter lateDropped;
    private transient AnalyticsRecordJson json;
    private transient int[] at;

    @Override
    public void open(FunctionContext context) {
        lateDropped = context.getMetricGroup().counter("numLateRecordsDropped");
        json = new AnalyticsRecordJson();
    }

    public void eval(
            Context ctx,
            // The symbol, for the timer's records (a timer has no input row).
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Integer, String> symbol,
            // No type hint on the double[] views: one would bridge the arrays to Double[] (a
            // failed checkpoint).
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Integer, double[]> values,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, Bucket> pending,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, double[]> window,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, double[]> quotes,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, double[]> trades,
            @ArgumentHint(ArgumentTrait.SET_SEMANTIC_TABLE) Row input)
            throws Exception {
        if (at == null) {
            at = InputColumns.positions(ctx, "trade_analytics", COLUMNS);
        }
        long tNs = input.getFieldAs(at[T_NS]);
        long ms = Math.floorDiv(tNs, NS_PER_MS);
        TimeContext<Long> time = ctx.timeContext(Long.class);
        Long watermark = time.currentWatermark();
        if (watermark != null && ms <= watermark) {
            lateDropped.inc();
            return;
        }
        Progress state = Progress.read(values);
        if (state == null) { // the symbol's first row
            state = new Progress();
            symbol.put(SYMBOL_KEY, input.getFieldAs(at[SYMBOL]));
        }
        if (watermark != null) {
            WaitingQuotes.takeUpTo(state, quotes, watermark);
        }
        boolean isQuote = Boolean.TRUE.equals(input.getFieldAs(at[IS_QUOTE]));
        Bucket bucket = state.buckets > 0 ? pending.get(ms) : null;
        if (isQuote) {
            double bid = orNaN(input.getFieldAs(at[BID]));
            double ask = orNaN(input.getFieldAs(at[ASK]));
            if (bucket == null && WaitingQuotes.add(state, quotes, ms, bid, ask)) {
                state.write(values);
                return;
            }
            bucket = bucketOf(time, state, bucket, ms);
            bucket.quoted = true;
            bucket.bid = bid;
            bucket.ask = ask;
        } else {
            double price = input.<Double>getFieldAs(at[PRICE]);
            double size = input.<Double>getFieldAs(at[SIZE]);
            if (WaitingTrades.add(state, trades, tNs, price, size)) {
                arm(time, state, ms);
                state.write(values);
                return;
            }
            bucket = bucketOf(time, state, bucket, ms);
            int n = bucket.tradeNs.length;
            bucket.tradeNs = Arrays.copyOf(bucket.tradeNs, n + 1);
            bucket.price = Arrays.copyOf(bucket.price, n + 1);
            bucket.size = Arrays.copyOf(bucket.size, n + 1);
            bucket.tradeNs[n] = tNs;
            bucket.price[n] = price;
            bucket.size[n] = size;
        }
        pending.put(ms, bucket);
        state.write(values);
    }

    /** The millisecond's bucket: {@code waiting}, or a new one with the symbol's timer armed. */
    private static Bucket bucketOf(
            TimeContext<Long> time, Progress state, Bucket waiting, long ms) {
        if (waiting != null) {
            return waiting;
        }
        Bucket bucket = new Bucket();
        state.buckets++;
        bucket.tradeNs = new long[0];
        bucket.price = new double[0];
        bucket.size = new double[0];
        arm(time, state, ms);
        return bucket;
    }

    /**
     * The symbol's timer: every millisecond the watermark has passed with waiting trades or a
     * bucket, in order; then the bars that end at or before it (no row of theirs can come any
     * more: it would be late); then the timer again, at the earliest waiting millisecond or open
     * bar's last one.
     */
    public void onTimer(
            OnTimerContext ctx,
            MapView<Integer, String> symbol,
            MapView<Integer, double[]> values,
            MapView<Long, Bucket> pending,
            MapView<Long, double[]> window,
            MapView<Long, double[]> quotes,
            MapView<Long, double[]> trades)
            throws Exception {
        TimeContext<Long> time = ctx.timeContext(Long.class);
        Long current = time.currentWatermark();
        long watermark = current != null ? current : time.time();
        Symbol s = new Symbol(symbol.get(SYMBOL_KEY), Progress.read(values), Rolling.read(values));
        Progress progress = s.progress;
        long next = Long.MAX_VALUE;
        long[] due = new long[8];
        int dueCount = 0;
        if (progress.buckets > 0) {
            for (Long ms : pending.keys()) {
                if (ms > watermark) {
                    next = Math.min(next, ms);
                } else {
                    if (dueCount == due.length) {
                        due = Arrays.copyOf(due, dueCount * 2);
                    }
                    due[dueCount++] = ms;
                }
            }
            Arrays.sort(due, 0, dueCount);
        }
        s.second = values.get(SECOND_BAR);
        s.minute = values.get(MINUTE_BAR);
        Group group = new Group();
        boolean traded = false;
        int d = 0;
        while (true) {
            long bucketMs = d < dueCount ? due[d] : Long.MAX_VALUE;
            long ms = Math.min(progress.trades.firstMs(), bucketMs);
            if (ms > watermark || ms == Long.MAX_VALUE) { // the end of input's watermark is MAX
                break;
            }
            WaitingQuotes.takeUpTo(progress, quotes, ms);
            Bucket bucket = null;
            if (bucketMs == ms) {
                bucket = pending.get(ms);
                pending.remove(ms);
                progress.buckets--;
                d++;
                if (bucket.quoted) {
                    progress.quoted = true;
                    progress.bid = bucket.bid;
                    progress.ask = bucket.ask;
                }
            }
            group.n = 0;
            WaitingTrades.take(progress, trades, ms, group);
            if (bucket != null) {
                for (int i = 0; i < bucket.tradeNs.length; i++) {
                    group.add(bucket.tradeNs[i], bucket.price[i], bucket.size[i]);
                }
            }
            if (group.n > 0) {
                trades(s, window, ms, group);
                traded = true;
            }
        }
        next = Math.min(next, progress.trades.firstMs());
        s.second = closeIfEnded(s.name, s.second, SECOND_MS, watermark, BAR_1S);
        s.minute = closeIfEnded(s.name, s.minute, MINUTE_MS, watermark, BAR_1M);
        next = Math.min(next, lastMs(s.second, SECOND_MS));
        next = Math.min(next, lastMs(s.minute, MINUTE_MS));
        if (progress.timerSet && progress.timerMs <= watermark) {
            progress.timerSet = false; // it fires in this watermark's round
        }
        arm(time, progress, next);
        progress.write(values);
        if (traded) {
            s.rolling.write(values);
        }
        putOrRemove(values, SECOND_BAR, s.second);
        putOrRemove(values, MINUTE_BAR, s.minute);
    }

    /** What a timer works on: the symbol's name, its state and its open bars. */
    private static final class Symbol {
        final String name;
        final Progress progress;
        final Rolling rolling;
        double[] second; // an OpenBar
        double[] minute;

        Symbol(String name, Progress progress, Rolling rolling) {
            this.name = name;
            this.progress = progress;
            this.rolling = rolling;
        }
    }

    private static void putOrRemove(MapView<Integer, double[]> values, Integer key, double[] bar)
            throws Exception {
        if (bar != null) {
            values.put(key, bar);
        } else {
            values.remove(key);
        }
    }

    /**
     * The symbol's timer at {@code ms} unless one is set at or before it already: Flink keeps
     * every timer registered (a table function cannot delete one), so an earlier row or bar sets
     * it earlier, and one set later than needed fires without work.
     */
    private static void arm(TimeContext<Long> time, Progress state, long ms) {
        if (ms != Long.MAX_VALUE && (!state.timerSet || ms < state.timerMs)) {
            time.registerOnTime(ms);
            state.timerMs = ms;
            state.timerSet = true;
        }
    }

    private static long lastMs(double[] bar, long widthMs) {
        return bar == null ? Long.MAX_VALUE : (OpenBar.window(bar) + 1) * widthMs - 1;
    }

    private static boolean endsBy(double[] bar, long widthMs, long ms) {
        return bar != null && lastMs(bar, widthMs) <= ms;
    }

    private void trades(Symbol s, MapView<Long, double[]> window, long ms, Group group)
            throws Exception {
        Rolling state = s.rolling;
        double[] head = null; // the window's first entry, once read
        while (state.head < state.tail && state.headMs < ms - ROLLING_MS) {
            leave(state, head != null ? head : window.get(state.head));
            window.remove(state.head++);
            head = state.head < state.tail ? window.get(state.head) : null;
            if (head != null) {
                state.headMs = (long) head[0];
            }
        }
        if (state.head == state.tail) {
            restart(state, group.price[0]);
        }
        for (int i = 0; i < group.n; i++) {
            double price = group.price[i];
            double previous = state.previousPrice;
            double ret = previous > 0 ? Math.log(price / previous) : Double.NaN;
            state.previousPrice = price;
            enter(state, price, ret);
            if (state.head == state.tail) {
                state.headMs = ms;
            }
            window.put(state.tail++, new double[] {ms, price, ret});
            double size = group.size[i];
            s.second = addToBar(s.name, s.second, SECOND_MS, ms, price, size, BAR_1S);
            s.minute = addToBar(s.name, s.minute, MINUTE_MS, ms, price, size, BAR_1M);
        }
        for (int i = 0; i < group.n; i++) {
            collect(Row.of((Object) rolling(s.name, state, group.tNs[i])));
            collect(Row.of((Object) spread(s.name, s.progress, group.tNs[i])));
        }
    }

    /**
     * An empty window starts from zero sums (not from what rounding left of the last ones) and
     * measures the deviation from its first price: after a pause the price can be far from the
     * old anchor, and the sum-of-squares formula loses the digits of (price - anchor)^2 / std^2.
     */
    private static void restart(Rolling state, double anchor) {
        state.anchor = anchor;
        state.count = 0;
        state.priceSum = 0;
        state.devSum = 0;
        state.devSquares = 0;
        state.retCount = 0;
        state.retSum = 0;
        state.retSquares = 0;
    }

    // The sums as SQL's SUM(w * x) over entry (w = 1) and exit (w = -1) rows kept them.
    private static void enter(Rolling state, double price, double ret) {
        double dev = price - state.anchor;
        state.count += 1;
        state.priceSum += price;
        state.devSum += dev;
        state.devSquares += dev * dev;
        if (!Double.isNaN(ret)) {
            state.retCount += 1;
            state.retSum += ret;
            state.retSquares += ret * ret;
        }
    }

    private static void leave(Rolling state, double[] entry) {
        double price = entry[1];
        double ret = entry[2];
        double dev = price - state.anchor;
        state.count -= 1;
        state.priceSum -= price;
        state.devSum -= dev;
        state.devSquares += -dev * dev;
        if (!Double.isNaN(ret)) {
            state.retCount -= 1;
            state.retSum -= ret;
            state.retSquares += -ret * ret;
        }
    }

    private byte[] rolling(String symbol, Rolling state, long tNs) {
        double n = state.count;
        double retN = state.retCount;
        return json.begin(symbol, ROLLING, tNs)
                .value("price_mean", state.priceSum / n)
                .value("price_std", n > 1 ? deviation(state.devSquares, state.devSum, n) : NONE)
                .value("price_count", n)
                .value("ret_mean", retN > 0 ? state.retSum / retN : NONE)
                .value("ret_std", retN > 1 ? deviation(state.retSquares, state.retSum, retN) : NONE)
                .value("ret_count", retN)
                .bytes();
    }

    /** Sample deviation from running sums; rounding below zero is clamped to zero. */
    private static double deviation(double squares, double sum, double n) {
        return Math.sqrt(Math.max((squares - sum * sum / n) / (n - 1), 0.0));
    }

    private byte[] spread(String symbol, Progress state, long tNs) {
        double bid = state.quoted ? state.bid : NONE;
        double ask = state.quoted ? state.ask : NONE;
        return json.begin(symbol, SPREAD, tNs)
                .value("bid", bid)
                .value("ask", ask)
                .value("spread", ask - bid)
                .value("mid", (bid + ask) / 2)
                .bytes();
    }

    /** {@code bar} with the trade added, or, if the trade opens another window, a new bar. */
    private double[] addToBar(
            String symbol,
            double[] bar,
            long widthMs,
            long ms,
            double price,
            double size,
            String metric) {
        long windowOf = Math.floorDiv(ms, widthMs);
        if (bar != null && OpenBar.window(bar) == windowOf) {
            OpenBar.add(bar, price, size);
            return bar;
        }
        if (bar != null) {
            emitBar(symbol, bar, widthMs, metric);
        }
        return OpenBar.of(windowOf, price, size);
    }

    private double[] closeIfEnded(
            String symbol, double[] bar, long widthMs, long closeTo, String metric) {
        if (endsBy(bar, widthMs, closeTo)) {
            emitBar(symbol, bar, widthMs, metric);
            return null;
        }
        return bar;
    }

    private void emitBar(String symbol, double[] bar, long widthMs, String metric) {
        long endNs = (OpenBar.window(bar) + 1) * widthMs * NS_PER_MS;
        double volume = bar[OpenBar.VOLUME];
        byte[] record =
                json.begin(symbol, metric, endNs)
                        .value("open", bar[OpenBar.OPEN])
                        .value("high", bar[OpenBar.HIGH])
                        .value("low", bar[OpenBar.LOW])
                        .value("close", bar[OpenBar.CLOSE])
                        .value("volume", volume)
                        .value("vwap", volume != 0 ? bar[OpenBar.PRICE_VOLUME] / volume : NONE)
                        .value("count", bar[OpenBar.COUNT])
                        .bytes();
        collect(Row.of((Object) record));
    }

    private static double orNaN(Double value) {
        return value == null ? Double.NaN : value;
    }

}
