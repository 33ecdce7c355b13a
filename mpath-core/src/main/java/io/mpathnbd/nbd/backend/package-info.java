/**
 * The NBD transport: a path to an NBD server, with one connection per event loop when the server allows
 * several, and the mapping of the server's errors onto path and target errors.
 */
package io.mpathnbd.nbd.backend;
