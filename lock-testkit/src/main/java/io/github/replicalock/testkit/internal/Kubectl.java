package io.github.replicalock.testkit.internal;

import io.github.replicalock.LockTarget;
import io.github.replicalock.spi.LockFields;
import io.github.replicalock.testkit.DeploymentSnapshot;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The test's side of the fake cluster, as {@code kubectl} would be: creating and deleting
 * Deployments, scaling and annotating them unconditionally (how tests play the legacy shell
 * pipeline and hand edits), and looking at them. A missing Deployment is the test's mistake here,
 * an {@link IllegalStateException}, never a lock exception.
 */
public final class Kubectl {
    /** The client name in the history for writes a test made as {@code kubectl} would. */
    public static final String CLIENT = "kubectl";

    private final ClusterStore store;
    private final ReentrantLock lock;

    public Kubectl(ClusterStore store) {
        this.store = Objects.requireNonNull(store, "store");
        this.lock = store.lock();
    }

    public LockTarget createDeployment(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        change(target, () -> {
            Map<LockTarget, StoredDeployment> deployments = store.deployments();
            if (deployments.containsKey(target)) {
                throw new IllegalStateException("deployment " + target + " already exists");
            }
            StoredDeployment deployment = new StoredDeployment(target);
            deployment.resourceVersion = store.nextResourceVersion();
            deployments.put(target, deployment);
        });
        return target;
    }

    public void deleteDeployment(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        change(target, () -> {
            StoredDeployment deployment = store.existing(target);
            store.deployments().remove(target);
            store.controller().deleted(deployment);
        });
    }

    public void clearSelector(String namespace, String name) {
        LockTarget target = LockTarget.of(namespace, name);
        change(target, () -> {
            StoredDeployment deployment = store.existing(target);
            deployment.selector = null;
            deployment.podCache = null;
            deployment.resourceVersion = store.nextResourceVersion();
        });
    }

    public void scale(String namespace, String name, int replicas) {
        LockTarget target = LockTarget.of(namespace, name);
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must not be negative, got " + replicas + " for " + target);
        }
        write(target, deployment -> deployment.replicas = replicas, true);
    }

    public void annotate(String namespace, String name, String key, @Nullable String value) {
        LockTarget target = LockTarget.of(namespace, name);
        Objects.requireNonNull(key, "key");
        write(
                target,
                deployment -> {
                    if (value == null) {
                        deployment.annotations.remove(key);
                    } else {
                        deployment.annotations.put(key, value);
                    }
                },
                false);
    }

    public DeploymentSnapshot snapshot(LockTarget target) {
        store.touch().run();
        lock.lock();
        try {
            return store.existing(target).snapshot();
        } finally {
            lock.unlock();
        }
    }

    /** kubectl's READY column, such as {@code 0/1}. */
    public String ready(LockTarget target) {
        store.touch().run();
        lock.lock();
        try {
            StoredDeployment deployment = store.existing(target);
            return deployment.readyReplicas + "/" + deployment.replicas;
        } finally {
            lock.unlock();
        }
    }

    /** A change under the store's lock, then the watches; the cluster must be open. */
    private void change(LockTarget target, Runnable change) {
        lock.lock();
        try {
            store.checkOpen();
            store.touch().run();
            change.run();
        } finally {
            lock.unlock();
        }
        store.watches().changed(target);
    }

    /**
     * An unconditional write of replicas or annotations, recorded as a lock write if the lock fields
     * changed; then the controller reconciles if {@code reconcile}.
     */
    private void write(LockTarget target, Consumer<StoredDeployment> write, boolean reconcile) {
        change(target, () -> {
            StoredDeployment deployment = store.existing(target);
            LockFields before = deployment.lockFieldsOrNull();
            write.accept(deployment);
            deployment.resourceVersion = store.nextResourceVersion();
            deployment.fieldsCache = null;
            deployment.queueCache = null;
            LockFields after = deployment.lockFieldsOrNull();
            // Only changes of parseable lock fields are lock writes; an annotation a test broke on
            // purpose has no "after" to record.
            if (before != null && after != null && !before.equals(after)) {
                store.history().recordWrite(store.clock().now(), target, CLIENT, before, after);
            }
            if (reconcile) {
                store.controller().reconcile(deployment);
            }
        });
        store.history().deliverWrites();
    }
}
