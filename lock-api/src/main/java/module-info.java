/**
 * replica-lock: a Kubernetes Deployment's replica count as a build lock.
 *
 * <p>{@link io.github.replicalock.ReplicaLocks} is the entry point; backends implement {@link
 * io.github.replicalock.spi.LockBackend}.
 */
module io.github.replicalock.api {
    requires transitive org.jspecify;
    requires org.slf4j;

    exports io.github.replicalock;
    exports io.github.replicalock.spi;
}
