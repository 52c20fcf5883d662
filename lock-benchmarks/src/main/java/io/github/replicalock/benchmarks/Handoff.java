package io.github.replicalock.benchmarks;

final class Handoff {
    private Handoff() {}

    static Section run() {
        return new Section("Handoff").para("not yet");
    }
}
