/**
 * JMH micro-benchmarks of the hot paths (request codec, reply forwarding, path selection); packaged by the
 * build, run by {@code scripts/bench jmh}.
 */
package io.mpathnbd.bench;
