package io.github.replicalock.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** One scenario's part of the report: prose, tables and a verdict per target, in Markdown. */
final class Section {
    private final StringBuilder text = new StringBuilder();
    private final List<String> verdicts = new ArrayList<>();
    final String title;

    Section(String title) {
        this.title = title;
    }

    Section para(String paragraph) {
        text.append(paragraph.strip()).append("\n\n");
        return this;
    }

    Section table(List<String> header, List<List<String>> rows) {
        text.append("| ").append(String.join(" | ", header)).append(" |\n");
        text.append("|").append("---|".repeat(header.size())).append("\n");
        for (List<String> row : rows) {
            text.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        text.append("\n");
        return this;
    }

    Section code(String block) {
        text.append("```\n").append(block.strip()).append("\n```\n\n");
        return this;
    }

    /** Records a headline figure against its target; it goes into the summary table too. */
    Section verdict(String figure, String measured, String target, boolean met) {
        verdicts.add("| " + title + " | " + figure + " | " + measured + " | " + target + " | "
                + (met ? "met" : "**missed**") + " |");
        return this;
    }

    /** Records a headline figure that has no target; it goes into the summary table too. */
    Section figure(String figure, String measured) {
        verdicts.add("| " + title + " | " + figure + " | " + measured + " | — | — |");
        return this;
    }

    List<String> verdicts() {
        return verdicts;
    }

    String markdown() {
        return "## " + title + "\n\n" + text;
    }
}
