package dev.streamlines.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.NumberOutput;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One analytics record as the JSON of {@code streamlines.contracts} ({@code {"symbol", "metric",
 * "t_ns", "values": {name: number or null}}}), written straight to bytes: what Flink's JSON
 * format wrote for the same row, without its tree of nodes per record (a fifth of the ripples
 * job's CPU). Numbers as the shortest decimal that reads back as the same double (Schubfach,
 * Jackson's fast writer, on Flink's classpath already: JDK 17's {@code Double.toString} was 7 %
 * of the job's CPU and sometimes writes more digits, never a different double); a value that is
 * not finite (none is expected) as null, which JSON can carry.
 */
final class AnalyticsRecordJson {

    private static final int MAX_LONG_CHARS = 20;

    private byte[] out = new byte[256];
    private int size;
    private boolean firstValue;

    /** Starts a record; then {@link #value} for each value and {@link #bytes} at the end. */
    AnalyticsRecordJson begin(String symbol, String metric, long tNs) {
        size = 0;
        ascii("{\"symbol\":");
        string(symbol);
        ascii(",\"metric\":");
        string(metric);
        ascii(",\"t_ns\":");
        reserve(MAX_LONG_CHARS);
        size = NumberOutput.outputLong(tNs, out, size);
        ascii(",\"values\":{");
        firstValue = true;
        return this;
    }

    AnalyticsRecordJson value(String name, double value) {
        if (!firstValue) {
            ascii(",");
        }
        firstValue = false;
        string(name);
        ascii(":");
        ascii(Double.isFinite(value) ? DoubleToDecimal.toString(value) : "null");
        return this;
    }

    byte[] bytes() {
        ascii("}}");
        return Arrays.copyOf(out, size);
    }

    /** Text known to be ASCII with nothing to escape: numbers, punctuation. */
    private void ascii(String text) {
        int length = text.length();
        reserve(length);
        for (int i = 0; i < length; i++) {
            out[size++] = (byte) text.charAt(i);
        }
    }

    private void string(String text) {
        if (!plain(text)) {
            byte[] encoded = escaped(text).getBytes(StandardCharsets.UTF_8);
            reserve(encoded.length);
            System.arraycopy(encoded, 0, out, size, encoded.length);
            size += encoded.length;
            return;
        }
        reserve(text.length() + 2);
        out[size++] = '"';
        for (int i = 0; i < text.length(); i++) {
            out[size++] = (byte) text.charAt(i);
        }
        out[size++] = '"';
    }

    /** Printable ASCII with no quote or backslash: the bytes are the characters. */
    private static boolean plain(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static String escaped(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 8).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                escaped.append('\\').append(c);
            } else if (c < 0x20) {
                escaped.append(String.format("\\u%04x", (int) c));
            } else {
                escaped.append(c);
            }
        }
        return escaped.append('"').toString();
    }

    private void reserve(int more) {
        if (size + more > out.length) {
            out = Arrays.copyOf(out, Math.max(out.length * 2, size + more));
        }
    }
}
