/** The fake cluster's implementation. Not API: anything here may change in any release. */
@NullMarked
package io.github.replicalock.testkit.internal;

import org.jspecify.annotations.NullMarked;
