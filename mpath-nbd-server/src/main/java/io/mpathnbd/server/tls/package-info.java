/**
 * TLS material of the gateway's listeners. {@link io.mpathnbd.server.tls.ReloadingContext}: the X.509 certificates
 * of the NBD port and the admin API, built from their files at start and rebuilt when the files change or on SIGHUP,
 * so a rotated certificate reaches new connections without a restart while established ones keep theirs.
 * {@link io.mpathnbd.server.tls.PskTls}: TLS-PSK, the pre-shared-key alternative to X.509 that nbdkit
 * ({@code --tls-psk}), qemu ({@code tls-creds-psk}) and libnbd ({@code tls-psk-file}) offer; the JDK's TLS has no
 * PSK, so it runs Bouncy Castle's TLS engine in non-blocking mode inside a Netty handler that looks to the pipeline
 * like Netty's {@code SslHandler}, one per connection, from a {@link io.mpathnbd.core.tls.PskFile}.
 */
package io.mpathnbd.server.tls;
