package dev.streamlines.flink;

import java.nio.charset.StandardCharsets;

/**
 * One analytics record as the JSON of {@code streamlines.contracts} ({@code {"symbol", "metric",
 * "t_ns", "values": {name: number or null}}}), written straight to bytes: what Flink's JSON
 * format wrote for the same row, without its tree of nodes per record (a fifth of the ripples
 * job's CPU). Numbers as Java's {@code Double.toString}, as Jackson writes them; a value that is
 * not finite (none is expected) as null, which JSON can carry.
 */
final class AnalyticsRecordJson {

    private final StringBuilder out = new StringBuilder(256);
    private boolean firstValue;

    /** Starts a record; then {@link #value} for each value and {@link #bytes} at the end. */
    AnalyticsRecordJson begin(String symbol, String metric, long tNs) {
        out.setLength(0);
        out.append("{\"symbol\":");
        string(symbol);
        out.append(",\"metric\":");
        string(metric);
        out.append(",\"t_ns\":").append(tNs).append(",\"values\":{");
        firstValue = true;
        return this;
    }

    AnalyticsRecordJson value(String name, double value) {
        if (!firstValue) {
            out.append(',');
        }
        firstValue = false;
        string(name);
        out.append(':');
        if (Double.isFinite(value)) {
            out.append(value);
        } else {
            out.append("null");
        }
        return this;
    }

    byte[] bytes() {
        out.append("}}");
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void string(String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
