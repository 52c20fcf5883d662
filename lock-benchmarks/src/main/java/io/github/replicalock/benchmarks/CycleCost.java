package io.github.replicalock.benchmarks;

final class CycleCost {
    private CycleCost() {}

    static Section run() {
        return new Section("CycleCost").para("not yet");
    }
}
