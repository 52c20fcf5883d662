/**
 * The backend SPI: what a store must do for the lock algorithm in {@link
 * io.github.replicalock.ReplicaLocks}. A backend reads, compares-and-sets, watches and deletes pods;
 * it never decides who holds the lock. Time comes from a {@link io.github.replicalock.spi.LockClock}
 * so that a fake backend can run the whole algorithm in virtual time.
 */
@NullMarked
package io.github.replicalock.spi;

import org.jspecify.annotations.NullMarked;
