package io.github.replicalock.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Runs the benchmark scenarios and writes the report ({@code docs/benchmarks.md} from the Maven
 * command). {@code -Dbenchmarks.scenarios=4,5} runs some of them: the report then keeps the other
 * scenarios' sections and summary rows from the report file as it was, and its header says which
 * run each figure comes from.
 */
public final class RunBenchmarks {
    static final String COMMAND = "./mvnw -B -Pbenchmarks -pl lock-benchmarks -am -DskipTests verify";

    /** Opens the line under each section's heading that says which run measured it. */
    static final String PROVENANCE = "_Measured in the run of ";

    private RunBenchmarks() {}

    /** A scenario's run, producing its section. */
    interface Scenario {
        Section run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: RunBenchmarks <report.md>");
        }
        Path report = Path.of(args[0]);
        Set<String> wanted = wanted(System.getProperty("benchmarks.scenarios", "all"));
        Map<String, Scenario> scenarios = new LinkedHashMap<>();
        scenarios.put("1", CycleCost::run);
        scenarios.put("2", Handoff::run);
        scenarios.put("3", WaitingLoad::run);
        scenarios.put("4", TestkitSpeed::run);
        scenarios.put("5", ManyLocksScenario::run);
        scenarios.put("6", SimulationSpeed::run);
        scenarios.put("7", RealApiServer::run);
        scenarios.put("8", DeadWaiters::run);

        long start = System.nanoTime();
        String loadBefore = loadAverage();
        List<Section> sections = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Map.Entry<String, Scenario> scenario : scenarios.entrySet()) {
            if (!wanted.contains(scenario.getKey())) {
                continue;
            }
            long t0 = System.nanoTime();
            Progress.log("scenario " + scenario.getKey() + " ...");
            try {
                sections.add(scenario.getValue().run());
                Progress.log("scenario " + scenario.getKey() + " done in "
                        + Duration.ofNanos(System.nanoTime() - t0).toSeconds() + " s");
            } catch (Exception e) {
                // The other scenarios' figures are worth writing; this one keeps its previous section.
                failed.add(scenario.getKey() + " (" + e + ")");
                Progress.log("scenario " + scenario.getKey() + " failed: " + e);
            }
        }
        Duration total = Duration.ofNanos(System.nanoTime() - start);
        String load = loadBefore + " before, " + loadAverage() + " after";
        boolean complete = wanted.containsAll(scenarios.keySet()) && failed.isEmpty();
        Previous previous = complete || !Files.exists(report)
                ? Previous.NONE
                : Previous.parse(Files.readString(report, StandardCharsets.UTF_8));
        String markdown = render(scenarios.keySet(), sections, previous, total, complete, load, failed);
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(report, markdown, StandardCharsets.UTF_8);
        Progress.log("wrote " + report + " (" + total.toSeconds() + " s)");
        // Non-daemon threads of clients and mock servers must not keep the JVM alive.
        System.exit(0);
    }

    private static Set<String> wanted(String spec) {
        Set<String> wanted = new TreeSet<>();
        if (spec.isBlank() || spec.equals("all")) {
            wanted.addAll(List.of("1", "2", "3", "4", "5", "6", "7", "8"));
        } else {
            wanted.addAll(Stats.commaSeparated(spec));
        }
        return wanted;
    }

    /** The 1-minute load average, where the OS tells it: other builds on the machine skew the figures. */
    private static String loadAverage() {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", load);
    }

    /**
     * The report as it was before a partial run: each scenario's summary rows and section, by
     * scenario number (the title's "2." of "2. Handoff latency"), and the header's date and load.
     */
    record Previous(Map<String, List<String>> summaryRows, Map<String, String> sections, String date, String load) {
        static final Previous NONE = new Previous(Map.of(), Map.of(), "", "");

        static Previous parse(String markdown) {
            Map<String, List<String>> rows = new LinkedHashMap<>();
            Map<String, String> sections = new LinkedHashMap<>();
            String date = "";
            String load = "";
            String current = null;
            boolean inSummary = false;
            StringBuilder section = new StringBuilder();
            boolean partialHeader = markdown.contains("| whole run |") && headerIsPartial(markdown);
            for (String line : markdown.split("\n", -1)) {
                if (line.startsWith("## ")) {
                    if (current != null) {
                        sections.put(current, section.toString());
                    }
                    inSummary = line.equals("## Summary");
                    current = inSummary || line.equals("## Notes") ? null : number(line.substring(3));
                    section = new StringBuilder();
                }
                if (current != null) {
                    section.append(line).append('\n');
                } else if (inSummary && line.startsWith("| ")) {
                    String key = number(line.substring(2));
                    if (key != null) {
                        rows.computeIfAbsent(key, k -> new ArrayList<>()).add(line);
                    }
                } else if (line.startsWith("| date | ")) {
                    date = firstPart(cell(line));
                } else if (line.startsWith("| load average (1 min) | ")) {
                    load = firstPart(cell(line));
                }
            }
            // A section written before sections said which run measured them: the header says it,
            // if that header was a complete run's.
            Map<String, String> dated = new LinkedHashMap<>();
            String origin = partialHeader ? "an earlier run (not recorded)" : provenance(date, load);
            for (Map.Entry<String, String> e : sections.entrySet()) {
                dated.put(
                        e.getKey(),
                        e.getValue().contains("\n" + PROVENANCE) ? e.getValue() : dated(e.getValue(), origin));
            }
            return new Previous(rows, dated, date, load);
        }

        private static boolean headerIsPartial(String markdown) {
            for (String line : markdown.split("\n")) {
                if (line.startsWith("| whole run | ")) {
                    return line.contains("(scenarios ");
                }
            }
            return false;
        }

        /** {@code section} with {@code provenance} as the line under its heading. */
        static String dated(String section, String provenance) {
            int end = section.indexOf('\n');
            String heading = end < 0 ? section : section.substring(0, end);
            String rest = end < 0 ? "" : section.substring(end + 1).stripLeading();
            return heading + "\n\n" + provenance + "\n\n" + rest;
        }

        /** "2" of "2. Handoff latency"; null for text that does not start with a scenario number. */
        private static @Nullable String number(String title) {
            int dot = title.indexOf(". ");
            return dot > 0 && title.substring(0, dot).chars().allMatch(Character::isDigit)
                    ? title.substring(0, dot)
                    : null;
        }

        /** A header cell without what an earlier partial run added in parentheses. */
        private static String firstPart(String cell) {
            int paren = cell.indexOf(" (");
            return paren < 0 ? cell : cell.substring(0, paren);
        }

        private static String cell(String row) {
            String[] cells = row.split("\\|");
            return cells.length > 2 ? cells[2].strip() : "";
        }
    }

    private static String render(
            Set<String> order,
            List<Section> sections,
            Previous previous,
            Duration total,
            boolean complete,
            String load,
            List<String> failed)
            throws IOException {
        Map<String, Section> ran = new LinkedHashMap<>();
        for (Section s : sections) {
            String key = Previous.number(s.title);
            ran.put(key == null ? s.title : key, s);
        }
        List<String> kept = order.stream()
                .filter(k -> !ran.containsKey(k) && previous.sections().containsKey(k))
                .toList();
        String keptNote = kept.isEmpty()
                ? ""
                : "; scenarios " + String.join(", ", kept) + " kept from earlier runs, as their sections say";
        String now = OffsetDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        String thisRun = provenance(now, load);
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("<!-- Generated by lock-benchmarks (io.github.replicalock.benchmarks.RunBenchmarks); "
                + "edit the code or notes.md there, not this file. -->\n\n");
        md.append("Measured speed of replica-lock beside fabric8's `LeaderElector` and the shell steps it replaces. "
                + "All scenarios, one command, about ten minutes on two cores:\n\n");
        md.append("```sh\n").append(COMMAND).append("\n```\n\n");
        md.append("`-Dbenchmarks.scenarios=4,5` runs some of them, and `-Dbenchmarks.report=<file>` writes elsewhere. "
                + "Targets live here, never in a unit test.\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| date | ")
                .append(now)
                .append(complete ? "" : " (scenarios " + String.join(", ", ran.keySet()) + keptNote + ")")
                .append(" |\n");
        md.append("| JVM | ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(Runtime.version())
                .append(" (")
                .append(System.getProperty("java.vm.vendor"))
                .append(") |\n");
        md.append("| JVM options | `")
                .append(String.join(
                        " ",
                        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                                .filter(a -> !a.startsWith("-Djava.util.logging") && !a.startsWith("-Dbenchmarks"))
                                .toList()))
                .append("` (JMH and scenario 5 fork their own; see there) |\n");
        md.append("| cores | ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" |\n");
        md.append("| OS | ")
                .append(System.getProperty("os.name"))
                .append(' ')
                .append(System.getProperty("os.version"))
                .append(' ')
                .append(System.getProperty("os.arch"))
                .append(" |\n");
        md.append("| load average (1 min) | ")
                .append(load)
                .append(complete || kept.isEmpty() ? "" : " (this run's; the kept scenarios' under their headings)")
                .append(" |\n");
        md.append("| whole run | ")
                .append(String.format(Locale.ROOT, "%d min %02d s", total.toMinutes(), total.toSecondsPart()))
                .append(complete ? "" : " (scenarios " + String.join(", ", ran.keySet()) + " only)")
                .append(" |\n");
        if (!failed.isEmpty()) {
            md.append("| failed in this run (previous section kept) | `")
                    .append(String.join("; ", failed).replace("|", "/").replace("`", "'"))
                    .append("` |\n");
        }
        md.append('\n');
        md.append("## Summary\n\n");
        md.append("| scenario | figure | measured | target | verdict |\n|---|---|---|---|---|\n");
        for (String key : order) {
            Section s = ran.get(key);
            if (s != null) {
                s.verdicts().forEach(v -> md.append(v).append('\n'));
            } else {
                previous.summaryRows()
                        .getOrDefault(key, List.of())
                        .forEach(v -> md.append(v).append('\n'));
            }
        }
        md.append('\n');
        for (String key : order) {
            Section s = ran.get(key);
            if (s != null) {
                md.append(Previous.dated(s.markdown(), thisRun));
            } else if (previous.sections().containsKey(key)) {
                md.append(previous.sections().get(key));
            }
        }
        md.append(notes());
        return md.toString().strip() + "\n";
    }

    /** The line under a section's heading: which run measured it, and the machine's load then. */
    static String provenance(String date, String load) {
        return PROVENANCE + date + " (load average " + load + ")._";
    }

    private static String notes() throws IOException {
        try (InputStream in = RunBenchmarks.class.getResourceAsStream("notes.md")) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
