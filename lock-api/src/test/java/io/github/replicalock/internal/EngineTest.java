package io.github.replicalock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.replicalock.LockOptions;
import io.github.replicalock.spi.LockClock;
import java.lang.reflect.Modifier;
import java.util.List;
import org.junit.jupiter.api.Test;

class EngineTest {
    @Test
    void onlyReplicaLocksOpensAnEngine() {
        assertThatThrownBy(() ->
                        Engine.open(null, LockClock.system(), "build-1", LockOptions.defaults(), false, List.of()))
                .isInstanceOf(IllegalCallerException.class)
                .hasMessageContaining("ReplicaLocks.builder().build()")
                .hasMessageContaining(EngineTest.class.getName());
    }

    @Test
    void neitherTheEngineNorTheSystemClockIsAPublicType() throws Exception {
        assertThat(Modifier.isPublic(LockEngine.class.getModifiers())).isFalse();
        assertThat(Modifier.isPublic(Class.forName("io.github.replicalock.spi.SystemLockClock")
                        .getModifiers()))
                .isFalse();
        assertThat(LockClock.system().getClass().getName()).isEqualTo("io.github.replicalock.spi.SystemLockClock");
    }
}
