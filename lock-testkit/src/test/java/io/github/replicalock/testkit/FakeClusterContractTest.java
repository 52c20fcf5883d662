package io.github.replicalock.testkit;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockBackend;
import org.junit.jupiter.api.AfterEach;

/** The fake passes the same contract as every real backend, in real time. */
class FakeClusterContractTest extends LockBackendContract {
    private final FakeCluster cluster = FakeCluster.create();

    @AfterEach
    void closeCluster() {
        cluster.close();
    }

    @Override
    protected LockBackend newBackend() {
        return cluster.backend();
    }

    @Override
    protected void createDeployment(LockTarget target) {
        cluster.createDeployment(target);
    }

    @Override
    protected void scaleLikeKubectl(LockTarget target, int replicas) {
        cluster.scale(target, replicas);
    }

    @Override
    protected void changeSomethingElse(LockTarget target) {
        cluster.annotate(target, "example.com/unrelated", "changed");
    }
}
