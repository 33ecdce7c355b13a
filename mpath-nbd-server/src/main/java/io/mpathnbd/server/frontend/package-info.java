/**
 * The NBD server that clients attach to: the fixed-newstyle handshake, then validation and admission of each
 * request in transmission, and the replies, all on the connection's event loop.
 */
package io.mpathnbd.server.frontend;
