/**
 * The iopolicies, which choose a path for each request among the usable ones without locking; looked up by
 * name in {@link io.mpathnbd.core.policy.IoPolicies}.
 */
package io.mpathnbd.core.policy;
