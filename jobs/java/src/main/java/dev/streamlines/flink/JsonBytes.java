package dev.streamlines.flink;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.NumberOutput;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A JSON object written straight to bytes, field by field, into one buffer reused record after
 * record: what the jobs' Java functions give a raw-format Kafka sink instead of Flink's JSON
 * format, which builds a tree of nodes per record and then a generator to write it (a fifth of
 * the ripples job's CPU). Numbers as the shortest decimal that reads back as the same double
 * (Schubfach, Jackson's fast writer, on Flink's classpath already: JDK 17's {@code
 * Double.toString} was 7 % of the ripples job's CPU and sometimes writes more digits, never a
 * different double); a double that is not finite as null, which JSON can carry.
 *
 * <p>Use: {@link #begin}, then {@link #name} and a value for each field ({@link #object} and
 * {@link #end} for a nested object), {@link #bytes} at the end. Field names are the callers'
 * constants and are written as they are.
 */
final class JsonBytes {

    private static final int MAX_LONG_CHARS = 20;

    private byte[] out = new byte[256];
    private int size;
    private boolean first;

    /** Starts a record: an empty top-level object. */
    JsonBytes begin() {
        size = 0;
        return object();
    }

    /** Opens an object, as a field's value or the record itself. */
    JsonBytes object() {
        ascii("{");
        first = true;
        return this;
    }

    /** Closes the innermost object. */
    JsonBytes end() {
        ascii("}");
        first = false;
        return this;
    }

    /** A field's name (ASCII, nothing to escape); its value follows. */
    JsonBytes name(String name) {
        if (!first) {
            ascii(",");
        }
        first = false;
        ascii("\"");
        ascii(name);
        ascii("\":");
        return this;
    }

    /** A string, or null. */
    JsonBytes string(String text) {
        if (text == null) {
            return nul();
        }
        if (!plain(text)) {
            byte[] encoded = escaped(text).getBytes(StandardCharsets.UTF_8);
            reserve(encoded.length);
            System.arraycopy(encoded, 0, out, size, encoded.length);
            size += encoded.length;
            return this;
        }
        reserve(text.length() + 2);
        out[size++] = '"';
        for (int i = 0; i < text.length(); i++) {
            out[size++] = (byte) text.charAt(i);
        }
        out[size++] = '"';
        return this;
    }

    JsonBytes nul() {
        return ascii("null");
    }

    /** A number, or null. */
    JsonBytes number(Long value) {
        return value == null ? nul() : number(value.longValue());
    }

    /** A number, or null. */
    JsonBytes number(Double value) {
        return value == null ? nul() : number(value.doubleValue());
    }

    JsonBytes number(long value) {
        reserve(MAX_LONG_CHARS);
        size = NumberOutput.outputLong(value, out, size);
        return this;
    }

    JsonBytes number(double value) {
        return Double.isFinite(value) ? ascii(DoubleToDecimal.toString(value)) : nul();
    }

    /** The record's bytes, a copy: the buffer is reused by the next record. */
    byte[] bytes() {
        return Arrays.copyOf(out, size);
    }

    /** Text known to be ASCII with nothing to escape: numbers, punctuation, names. */
    private JsonBytes ascii(String text) {
        int length = text.length();
        reserve(length);
        for (int i = 0; i < length; i++) {
            out[size++] = (byte) text.charAt(i);
        }
        return this;
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
