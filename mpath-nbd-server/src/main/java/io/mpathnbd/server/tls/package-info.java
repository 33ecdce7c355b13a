/**
 * TLS-PSK for the NBD front end, the pre-shared-key alternative to X.509 that nbdkit ({@code --tls-psk}), qemu
 * ({@code tls-creds-psk}) and libnbd ({@code tls-psk-file}) offer. The JDK's TLS has no PSK, so this runs Bouncy
 * Castle's TLS engine in non-blocking mode inside a Netty handler that looks to the pipeline like Netty's
 * {@code SslHandler}. {@link io.mpathnbd.server.tls.PskTls} makes one handler per connection from a
 * {@link io.mpathnbd.core.tls.PskFile}.
 */
package io.mpathnbd.server.tls;
