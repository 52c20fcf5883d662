/**
 * The backend SPI: what a store must do for the lock algorithm in {@link
 * io.github.replicalock.ReplicaLocks}. A backend stores, compares-and-sets, watches, reads (from
 * a cache, or {@linkplain io.github.replicalock.spi.LockBackend#readFresh fresh} when the engine
 * asks) and deletes pods. It never decides who holds the lock, never guesses how serious an event
 * is (a {@link io.github.replicalock.spi.LockEvent}'s kind says so) and never chooses the engine's
 * clock: time comes from the {@link io.github.replicalock.spi.LockClock} given to {@code
 * ReplicaLocks.Builder.clock}, so that a fake store can run the whole algorithm in virtual time.
 */
@NullMarked
package io.github.replicalock.spi;

import org.jspecify.annotations.NullMarked;
