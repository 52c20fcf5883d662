package io.github.replicalock.kubernetes.internal;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.github.replicalock.LockTarget;
import io.github.replicalock.LockTargetInvalidException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** Renders a Deployment's {@code spec.selector} in the label-selector syntax of kubectl and the API. */
public final class Selectors {
    private Selectors() {}

    /**
     * {@code app=builder,tier in (ci,cd),!legacy}: matchLabels sorted by key, then matchExpressions in
     * order; null when the selector is absent or selects nothing in particular (no terms).
     *
     * @throws LockTargetInvalidException for an operator that is not In, NotIn, Exists or DoesNotExist
     */
    public static @Nullable String render(LockTarget target, @Nullable LabelSelector selector) {
        if (selector == null) {
            return null;
        }
        List<String> terms = new ArrayList<>();
        Map<String, String> labels = selector.getMatchLabels();
        if (labels != null) {
            new TreeMap<>(labels).forEach((k, v) -> terms.add(k + "=" + v));
        }
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
        if (expressions != null) {
            for (LabelSelectorRequirement r : expressions) {
                terms.add(expression(target, r));
            }
        }
        return terms.isEmpty() ? null : String.join(",", terms);
    }

    private static String expression(LockTarget target, LabelSelectorRequirement r) {
        String key = r.getKey();
        String operator = r.getOperator() == null ? "" : r.getOperator();
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        return switch (operator) {
            case "In" -> key + " in (" + String.join(",", values) + ")";
            case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
            case "Exists" -> key;
            case "DoesNotExist" -> "!" + key;
            default ->
                throw new LockTargetInvalidException(
                        target,
                        "spec.selector.matchExpressions has operator '" + operator + "' for key '" + key
                                + "', expected In, NotIn, Exists or DoesNotExist");
        };
    }

    /**
     * Whether {@code labels} match {@code selector} (matchLabels and all matchExpressions). Applied
     * to listed pods as well, so that a server or proxy that ignores part of a set-based selector
     * (fabric8's mock server ignores {@code in}/{@code notin}) never adds foreign pods to a lock.
     */
    public static boolean matches(LabelSelector selector, @Nullable Map<String, String> labels) {
        Map<String, String> have = labels == null ? Map.of() : labels;
        Map<String, String> wanted = selector.getMatchLabels();
        if (wanted != null) {
            for (Map.Entry<String, String> e : wanted.entrySet()) {
                if (!e.getValue().equals(have.get(e.getKey()))) {
                    return false;
                }
            }
        }
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
        if (expressions != null) {
            for (LabelSelectorRequirement r : expressions) {
                String value = have.get(r.getKey());
                List<String> values = r.getValues() == null ? List.of() : r.getValues();
                boolean ok = switch (r.getOperator() == null ? "" : r.getOperator()) {
                    case "In" -> value != null && values.contains(value);
                    case "NotIn" -> value == null || !values.contains(value);
                    case "Exists" -> value != null;
                    case "DoesNotExist" -> value == null;
                    default -> false;
                };
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }
}
