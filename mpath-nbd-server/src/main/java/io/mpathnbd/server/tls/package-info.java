/**
 * Certificates in use by the gateway's TLS listeners (the NBD port, the admin API): built from their files at start,
 * and rebuilt when the files change or on SIGHUP, so a rotated certificate is served to new connections without a
 * restart while established ones keep theirs.
 */
package io.mpathnbd.server.tls;
