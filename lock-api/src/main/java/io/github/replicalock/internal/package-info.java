/** The lock algorithm. Not API: anything here may change in any release. */
@NullMarked
package io.github.replicalock.internal;

import org.jspecify.annotations.NullMarked;
