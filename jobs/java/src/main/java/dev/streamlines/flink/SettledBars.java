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
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.Row;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Each symbol's bars joined with their indicator records, one row per bar, once every indicator
 * family is settled for it, with the bars before it: the rule and the look-back of the Python
 * window the narwhal job had ({@code jobs/narwhal/window.py}, {@code SymbolWindow}, which the
 * plain-Python consumer of its benchmark still uses), so that the job's Python function is a
 * stateless, vectorised one that gets one record per bar.
 *
 * <p>The rule: each family's records of a symbol come in bar order, and a family may have none
 * for a bar (while it warms up). So family f is settled for bar t once a record of f at t or at a
 * later bar has arrived. The narwhal job has one family: the currents job's per-bar record, one
 * at every bar with all the indicators in it. A bar leaves, with the values its families' records at
 * its time carried, once every family is settled for it and the bars before it have left. A
 * record for a bar that has left is not used; at the end of a bounded input (the watermark that
 * ends event time) the bars still waiting leave with what has arrived.
 *
 * <p>Input rows: {@code t_ns BIGINT}, {@code kind STRING} ({@code bar}, or the family of an
 * indicator record) and the value columns, every DOUBLE column, the same for both kinds (a bar's
 * values in some, the indicator inputs in the others, null where a row carries none). Bars come
 * in time order (after {@link OrderedBars}); a bar at or before the last one held is dropped and
 * counted in {@code numLateRecordsDropped}. A bar's values: the value columns in input order,
 * each the bar's value overridden by the last non-null, non-NaN value an indicator record gave it.
 *
 * <p>The output, one row per bar: {@code symbol}, {@code t_ns}, and the bar with the {@code
 * lookback} bars before it (fewer at a symbol's start): {@code times}, oldest first, and {@code
 * values}: the {@code history} columns of the bars before it, bar after bar, then every value
 * column of the bar itself (NaN where a bar has none), packed as little-endian int64s and
 * float64s: a stateless function after it sees each bar's look-back, and a batch of them crosses
 * to Python as two byte columns that NumPy reads without a loop over the values. {@code history}
 * names the value columns that the look-back needs (null: all of them); the others are sent for
 * the bar only, which keeps a row to a fraction of the bytes. SQL: {@code settled_bars(input =>
 * TABLE rows PARTITION BY symbol, families => 'bollinger,ema,...', lookback => 20, history =>
 * 'close,volume')}.
 */
@FunctionHint(output = @DataTypeHint(SettledBars.WINDOW))
public class SettledBars extends ProcessTableFunction<Row> {

    static final String WINDOW = "ROW<t_ns BIGINT, times BYTES, `values` BYTES>";
    static final String BAR_KIND = "bar";
    static final long END_OF_INPUT = Long.MAX_VALUE - 1; // fires only on the final watermark
    static final int FIRST_SWEEP = 1024;
    // The key of the one entry in a symbol's recent bars: the times of the last lookback bars
    // that left, then their history values, packed as in the output. One entry read and written
    // per bar (a map entry per bar cost lookback reads, each converting a bar out of state).
    static final int RECENT = 0;
    // Packed values: the columns present as a bit mask, so at most this many value columns.
    static final int MAX_VALUE_COLUMNS = 52;
    static final double[] NO_VALUES = {0};

    /**
     * Per symbol. Waiting bars are {@code waitingBars[head, tail)}; {@code headT} and {@code
     * tailT} the first and the last one's time. {@code progress[f]}: the latest time of family f
     * seen. {@code held}: how many times have indicator values waiting ({@code heldValues}); at
     * {@code sweepAt} those of bars that will never come are dropped.
     */
    public static class Progress {
        public long[] progress;
        public Long lastT;
        public Long headT;
        public Long tailT;
        public long head;
        public long tail;
        public int held;
        public int sweepAt;
        public boolean endArmed;
        public int lookback;
    }

    /** A bar waiting in state: its time and its values, packed (see {@link #pack}). */
    public static class Bar {
        public long t;
        public double[] values;

        public Bar() {}

        Bar(long t, double[] values) {
            this.t = t;
            this.values = values;
        }
    }

    private transient Counter lateDropped;
    private transient String familiesArg;
    private transient String historyArg;
    private transient Map<String, Integer> familyIndex;
    private transient int[] valueFields;
    private transient int tNsField;
    private transient int kindField;
    // Positions in a bar's values of the history columns, in the order the look-back sends them.
    private transient int[] historyValues;
    private transient double[] scratch;

    @Override
    public void open(FunctionContext context) {
        lateDropped = context.getMetricGroup().counter("numLateRecordsDropped");
    }

    public void eval(
            Context ctx,
            @StateHint(ttl = OrderedBars.NO_TTL) Progress state,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, Bar> waitingBars,
            // No type hint: one would bridge the arrays to Double[] (a failed checkpoint).
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Long, double[]> heldValues,
            @StateHint(ttl = OrderedBars.NO_TTL) MapView<Integer, byte[]> recent,
            @ArgumentHint(ArgumentTrait.SET_SEMANTIC_TABLE) Row input,
            String families,
            Integer lookback,
            String history)
            throws Exception {
        parse(families, history, ctx);
        if (state.progress == null) {
            state.progress = new long[familyIndex.size()];
            Arrays.fill(state.progress, Long.MIN_VALUE);
            state.sweepAt = FIRST_SWEEP;
            state.lookback = lookback == null ? 0 : Math.max(lookback, 0);
        }
        if (!state.endArmed) {
            ctx.timeContext(Long.class).registerOnTime(END_OF_INPUT);
            state.endArmed = true;
        }
        long t = input.getFieldAs(tNsField);
        String kind = input.getFieldAs(kindField);
        if (BAR_KIND.equals(kind)) {
            addBar(state, waitingBars, t, input);
        } else {
            Integer family = familyIndex.get(kind);
            if (family == null) {
                return;
            }
            state.progress[family] = Math.max(state.progress[family], t);
            if (state.lastT == null || t > state.lastT) {
                addIndicators(state, heldValues, t, input);
            }
        }
        emitSettled(state, waitingBars, heldValues, recent, min(state.progress));
        if (state.held >= state.sweepAt) {
            sweep(state, heldValues);
        }
    }

    public void onTimer(
            OnTimerContext ctx,
            Progress state,
            MapView<Long, Bar> waitingBars,
            MapView<Long, double[]> heldValues,
            MapView<Integer, byte[]> recent)
            throws Exception {
        emitSettled(state, waitingBars, heldValues, recent, Long.MAX_VALUE);
    }

    private void addBar(Progress state, MapView<Long, Bar> pending, long t, Row input)
            throws Exception {
        Long newest = state.tailT != null ? state.tailT : state.lastT;
        if (newest != null && t <= newest) {
            lateDropped.inc();
            return;
        }
        pending.put(state.tail++, new Bar(t, pack(input)));
        state.tailT = t;
        if (state.headT == null) {
            state.headT = t;
        }
    }

    private void addIndicators(
            Progress state, MapView<Long, double[]> indicators, long t, Row input)
            throws Exception {
        double[] values = pack(input);
        if (values == NO_VALUES) {
            return;
        }
        double[] slot = indicators.get(t);
        if (slot == null) {
            indicators.put(t, values);
            state.held++;
        } else {
            indicators.put(t, merge(slot, values));
        }
    }

    /** The waiting bars up to {@code settledTo}, in order, with their indicator values. */
    private void emitSettled(
            Progress state,
            MapView<Long, Bar> pending,
            MapView<Long, double[]> indicators,
            MapView<Integer, byte[]> recent,
            long settledTo)
            throws Exception {
        while (state.headT != null && state.headT <= settledTo) {
            Bar bar = pending.get(state.head);
            if (bar == null) {
                // Progress restored from a savepoint of a version that kept its waiting bars
                // under another name (before the packed layout): they are not in this state.
                throw new IllegalStateException(
                        "settled_bars: the savepoint's waiting bars are not in this version's"
                                + " state; start the narwhal job without the savepoint (it reads"
                                + " its topics from the beginning)");
            }
            pending.remove(state.head++);
            long t = state.headT;
            double[] values = new double[valueFields.length];
            Arrays.fill(values, Double.NaN);
            unpack(bar.values, values);
            double[] slot = indicators.get(t);
            if (slot != null) {
                indicators.remove(t);
                state.held--;
                unpack(slot, values);
            }
            state.lastT = t;
            if (state.head < state.tail) {
                state.headT = pending.get(state.head).t;
            } else {
                state.headT = null;
                state.tailT = null;
            }
            collect(window(state, recent, historyValues, t, values));
        }
    }

    /**
     * Bar {@code t} with the {@code lookback} bars before it: their times, oldest first, as
     * little-endian int64s; the history values of the bars before it, bar after bar, then the
     * bar's values, as little-endian float64s (what NumPy reads in one call); {@code t} joins the
     * recent bars.
     */
    private static Row window(
            Progress state,
            MapView<Integer, byte[]> recent,
            int[] history,
            long t,
            double[] values)
            throws Exception {
        int historyBytes = history.length * Double.BYTES;
        int barBytes = Long.BYTES + historyBytes;
        byte[] before = state.lookback > 0 ? recent.get(RECENT) : null;
        int kept = before == null ? 0 : before.length / barBytes;
        byte[] times = new byte[(kept + 1) * Long.BYTES];
        byte[] window = new byte[kept * historyBytes + values.length * Double.BYTES];
        if (kept > 0) {
            System.arraycopy(before, 0, times, 0, kept * Long.BYTES);
            System.arraycopy(before, kept * Long.BYTES, window, 0, kept * historyBytes);
        }
        ByteBuffer.wrap(times).order(ByteOrder.LITTLE_ENDIAN).putLong(kept * Long.BYTES, t);
        ByteBuffer.wrap(window)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer()
                .put(kept * history.length, values);
        if (state.lookback > 0) {
            int drop = kept + 1 > state.lookback ? 1 : 0;
            int keep = kept + 1 - drop;
            byte[] after = new byte[keep * barBytes];
            System.arraycopy(times, drop * Long.BYTES, after, 0, keep * Long.BYTES);
            int olderBytes = (kept - drop) * historyBytes;
            System.arraycopy(window, drop * historyBytes, after, keep * Long.BYTES, olderBytes);
            ByteBuffer own = ByteBuffer.wrap(after).order(ByteOrder.LITTLE_ENDIAN);
            int at = keep * Long.BYTES + olderBytes;
            for (int column : history) {
                own.putDouble(at, values[column]);
                at += Double.BYTES;
            }
            recent.put(RECENT, after);
        }
        return Row.of(t, times, window);
    }

    /** Drops the indicator values of bars at or before the last one emitted (none will come). */
    private static void sweep(Progress state, MapView<Long, double[]> indicators) throws Exception {
        if (state.lastT != null) {
            List<Long> gone = new ArrayList<>();
            for (Long t : indicators.keys()) {
                if (t <= state.lastT) {
                    gone.add(t);
                }
            }
            for (Long t : gone) {
                indicators.remove(t);
            }
            state.held -= gone.size();
        }
        state.sweepAt = Math.max(2 * state.held, FIRST_SWEEP);
    }

    private void parse(String families, String history, Context ctx) {
        if (families.equals(familiesArg) && Objects.equals(history, historyArg)) {
            return;
        }
        Map<String, Integer> index = new HashMap<>();
        for (String family : families.split(",")) {
            index.putIfAbsent(family.trim(), index.size());
        }
        RowType row = (RowType) ctx.tableSemanticsFor("input").dataType().getLogicalType();
        List<Integer> fields = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < row.getFieldCount(); i++) {
            if (row.getTypeAt(i).is(LogicalTypeRoot.DOUBLE)) {
                fields.add(i);
                names.add(row.getFieldNames().get(i));
            }
        }
        List<Integer> historyIndex = new ArrayList<>();
        for (String column : history == null ? names : Arrays.asList(history.split(","))) {
            int at = names.indexOf(column.trim());
            if (at < 0) {
                throw new IllegalArgumentException(
                        "settled_bars: history column '"
                                + column.trim()
                                + "' is not a DOUBLE column of the input "
                                + names);
            }
            historyIndex.add(at);
        }
        if (fields.size() > MAX_VALUE_COLUMNS) {
            throw new IllegalArgumentException(
                    "settled_bars: at most "
                            + MAX_VALUE_COLUMNS
                            + " DOUBLE columns, the input has "
                            + fields.size());
        }
        int[] at = InputColumns.positions(ctx, "settled_bars", "t_ns", "kind");
        tNsField = at[0];
        kindField = at[1];
        familyIndex = index;
        valueFields = fields.stream().mapToInt(Integer::intValue).toArray();
        scratch = new double[fields.size()];
        historyValues = historyIndex.stream().mapToInt(Integer::intValue).toArray();
        familiesArg = families;
        historyArg = history;
    }

    /**
     * The row's value columns that hold a number, packed: element 0 the bit mask of those columns
     * (bit i: value column i; exact as a double, at most {@link #MAX_VALUE_COLUMNS} bits), then
     * their values in column order; {@link #NO_VALUES} if none does. A bar or a record carries
     * a few of the value columns (the others null): packed, a bar waiting in state takes the
     * bytes of its own values, not of every column (a backlog holds hundreds of thousands).
     */
    private double[] pack(Row input) {
        long mask = 0;
        int count = 0;
        for (int i = 0; i < valueFields.length; i++) {
            Double value = input.getFieldAs(valueFields[i]);
            if (value != null && !value.isNaN()) {
                mask |= 1L << i;
                scratch[count++] = value;
            }
        }
        if (mask == 0) {
            return NO_VALUES;
        }
        double[] packed = new double[count + 1];
        packed[0] = mask;
        System.arraycopy(scratch, 0, packed, 1, count);
        return packed;
    }

    /** {@code older} with {@code newer}'s values over it, packed. */
    static double[] merge(double[] older, double[] newer) {
        long a = (long) older[0];
        long b = (long) newer[0];
        long mask = a | b;
        double[] merged = new double[Long.bitCount(mask) + 1];
        merged[0] = mask;
        int ia = 1;
        int ib = 1;
        int at = 1;
        for (long rest = mask; rest != 0; rest &= rest - 1) {
            long bit = rest & -rest;
            double value = (a & bit) != 0 ? older[ia++] : Double.NaN;
            merged[at++] = (b & bit) != 0 ? newer[ib++] : value;
        }
        return merged;
    }

    /** Writes the packed values into their columns of {@code values}. */
    static void unpack(double[] packed, double[] values) {
        int at = 1;
        for (long rest = (long) packed[0]; rest != 0; rest &= rest - 1) {
            values[Long.numberOfTrailingZeros(rest)] = packed[at++];
        }
    }

    private static long min(long[] values) {
        long min = Long.MAX_VALUE;
        for (long value : values) {
            min = Math.min(min, value);
        }
        return min;
    }
}
