/**
 * The HTTP/JSON admin API (export and path state, fail, reinstate, add and remove paths, switch iopolicies),
 * {@code /health} and {@code /metrics}.
 */
package io.mpathnbd.server.admin;
