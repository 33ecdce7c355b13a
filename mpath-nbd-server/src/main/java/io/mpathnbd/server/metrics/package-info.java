/**
 * The Micrometer meters of exports, paths and client connections, exposed in Prometheus text format.
 */
package io.mpathnbd.server.metrics;
