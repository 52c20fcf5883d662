package io.github.replicalock.benchmarks;

final class WaitingLoad {
    private WaitingLoad() {}

    static Section run() {
        return new Section("WaitingLoad").para("not yet");
    }
}
