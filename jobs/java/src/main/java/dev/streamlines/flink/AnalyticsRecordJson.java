package dev.streamlines.flink;

/**
 * One analytics record as the JSON of {@code streamlines.contracts} ({@code {"symbol", "metric",
 * "t_ns", "values": {name: number or null}}}), written straight to bytes ({@link JsonBytes}):
 * what Flink's JSON format wrote for the same row.
 */
final class AnalyticsRecordJson {

    private final JsonBytes json = new JsonBytes();

    /** Starts a record; then {@link #value} for each value and {@link #bytes} at the end. */
    AnalyticsRecordJson begin(String symbol, String metric, long tNs) {
        json.begin().name("symbol").string(symbol).name("metric").string(metric);
        json.name("t_ns").number(tNs).name("values").object();
        return this;
    }

    AnalyticsRecordJson value(String name, double value) {
        json.name(name).number(value);
        return this;
    }

    byte[] bytes() {
        return json.end().end().bytes();
    }
}
