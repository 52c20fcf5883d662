package io.github.replicalock.cli;

import io.github.replicalock.LockState;
import io.github.replicalock.LockStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A {@link LockStatus} as kubectl-like text, as JSON for scripts, and as a progress phrase. */
final class StatusView {
    private static final List<String> COLUMNS =
            List.of("NAMESPACE", "DEPLOYMENT", "READY", "STATE", "HOLDER", "TOKEN", "LEASE-LEFT");

    private StatusView() {}

    /**
     * How much of the holder's lease is left by our clock, from its last renewal; empty when free
     * or when the holder does not speak the protocol. Informational: contenders never trust the
     * holder's wall clock.
     */
    static @Nullable Duration leaseLeft(LockStatus status, Instant now) {
        if (status.state() == LockState.IDLE || status.state() == LockState.RELEASING) {
            return null;
        }
        Instant renewed = status.renewed().orElse(null);
        Duration lease = status.lease().orElse(null);
        if (renewed == null || lease == null) {
            return null;
        }
        return Duration.between(now, renewed.plus(lease));
    }

    /** A header and one line, columns aligned as kubectl does. */
    static String text(LockStatus status, Instant now) {
        Duration left = leaseLeft(status, now);
        List<String> row = List.of(
                status.target().namespace(),
                status.target().name(),
                status.ready(),
                status.state().name(),
                status.holder().orElse("<none>"),
                Long.toString(status.fencingToken()),
                left == null ? "-" : left.isNegative() ? "expired" : Durations.format(left));
        List<String> lines = new ArrayList<>();
        lines.add(aligned(COLUMNS, row, COLUMNS));
        lines.add(aligned(COLUMNS, row, row));
        if (!status.waiters().isEmpty()) {
            lines.add("WAITERS (head first):");
            int position = 1;
            for (LockStatus.Waiter waiter : status.waiters()) {
                lines.add("  " + position++ + ". " + waiter.identity() + "   waiting "
                        + Durations.format(waiter.waited()));
            }
        }
        return String.join(System.lineSeparator(), lines);
    }

    private static String aligned(List<String> header, List<String> row, List<String> cells) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i);
            line.append(cell);
            if (i < cells.size() - 1) {
                int width = Math.max(header.get(i).length(), row.get(i).length());
                line.append(" ".repeat(width - cell.length() + 3));
            }
        }
        return line.toString();
    }

    /** One JSON object; instants in RFC 3339, durations in seconds. */
    static String json(LockStatus status, Instant now) {
        Duration left = leaseLeft(status, now);
        Map<String, @Nullable Object> fields = new LinkedHashMap<>();
        fields.put("namespace", status.target().namespace());
        fields.put("deployment", status.target().name());
        fields.put("state", status.state().name());
        fields.put("ready", status.ready());
        fields.put("desiredReplicas", status.desiredReplicas());
        fields.put("readyReplicas", status.readyReplicas());
        fields.put("holder", status.holder().orElse(null));
        fields.put("token", status.fencingToken());
        fields.put("acquired", status.acquired().map(Instant::toString).orElse(null));
        fields.put("renewed", status.renewed().map(Instant::toString).orElse(null));
        fields.put("leaseSeconds", status.lease().map(Duration::toSeconds).orElse(null));
        fields.put("leaseLeftSeconds", left == null ? null : left.toSeconds());
        fields.put("reason", status.reason().orElse(null));
        StringBuilder out = new StringBuilder("{");
        appendFields(out, fields);
        if (!status.waiters().isEmpty()) {
            // Only when someone waits: scripts written before the queue see the same object as before.
            out.append(",\"waiters\":[");
            for (int i = 0; i < status.waiters().size(); i++) {
                LockStatus.Waiter waiter = status.waiters().get(i);
                Map<String, @Nullable Object> entry = new LinkedHashMap<>();
                entry.put("identity", waiter.identity());
                entry.put("enqueued", waiter.enqueued().toString());
                entry.put("waitedSeconds", waiter.waited().toSeconds());
                out.append(i == 0 ? "{" : ",{");
                appendFields(out, entry);
                out.append('}');
            }
            out.append(']');
        }
        return out.append('}').toString();
    }

    private static void appendFields(StringBuilder out, Map<String, @Nullable Object> fields) {
        int start = out.length();
        fields.forEach((key, value) -> {
            if (out.length() > start) {
                out.append(',');
            }
            out.append(quote(key)).append(':');
            if (value == null) {
                out.append("null");
            } else if (value instanceof String s) {
                out.append(quote(s));
            } else {
                out.append(value);
            }
        });
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /**
     * {@code ACTIVE READY 1/1, held by 'x' (token 7), lease left 25s, 2 queued (head 'y')}: what a
     * waiting build is told.
     */
    static String phrase(LockStatus status, Instant now) {
        StringBuilder out =
                new StringBuilder(status.state().name()).append(" READY ").append(status.ready());
        status.holder().ifPresent(h -> out.append(", held by '").append(h).append('\''));
        out.append(" (token ").append(status.fencingToken()).append(')');
        Duration left = leaseLeft(status, now);
        if (left != null) {
            out.append(
                    left.isNegative()
                            ? ", lease expired " + Durations.format(left.negated()) + " ago"
                            : ", lease left " + Durations.format(left));
        }
        if (!status.waiters().isEmpty()) {
            out.append(", ")
                    .append(status.waiters().size())
                    .append(" queued (head '")
                    .append(status.waiters().get(0).identity())
                    .append("')");
        }
        status.reason().ifPresent(r -> out.append(": ").append(r));
        return out.toString();
    }
}
