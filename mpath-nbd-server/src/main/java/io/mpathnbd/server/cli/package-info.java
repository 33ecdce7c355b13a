/**
 * The {@code mpath-nbd} command line (picocli): serve, demo, discover, and the admin API clients status,
 * path and iopolicy.
 */
package io.mpathnbd.server.cli;
