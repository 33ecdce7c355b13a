/**
 * X.509 material for TLS on both sides of the gateway: the NBD front end (server role) and {@code nbds://}
 * backends (client role). Files are PEM, found in the directory layout nbdkit, qemu and libnbd already use, and
 * turned into Netty {@link io.netty.handler.ssl.SslContext}s restricted to TLS 1.2 and 1.3.
 * {@link io.mpathnbd.core.tls.PskFile} reads pre-shared keys in psktool's {@code username:hexkey} format for TLS-PSK.
 */
package io.mpathnbd.core.tls;
