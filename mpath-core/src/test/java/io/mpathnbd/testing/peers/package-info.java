/**
 * Real NBD peers for integration tests, shared by both modules through the mpath-core test-jar.
 *
 * <ul>
 *   <li>{@link io.mpathnbd.testing.peers.Nbdkit}: nbdkit with the memory, file or nbd (proxy) plugin and the error,
 *       delay and pause filters; {@link io.mpathnbd.testing.peers.NbdServer}: the reference nbd-server (simple
 *       replies, forks per client); {@link io.mpathnbd.testing.peers.QemuNbd}: qemu-nbd. All listen on 127.0.0.1 on
 *       a free port, are ready when returned, give {@code uri()}, and fail a backend with {@code kill()} (dead),
 *       {@code stop()}/{@code cont()} (hung) through their common base {@link io.mpathnbd.testing.peers.NbdPeer}.</li>
 *   <li>{@link io.mpathnbd.testing.peers.PeerProcess}: any started program with its log, pid and signals.</li>
 *   <li>{@link io.mpathnbd.testing.peers.Tools}: runs client tools (nbdinfo, nbdsh, qemu-io, qemu-img, nbdcopy, fio)
 *       to completion; {@code require} fails a test plainly when a program is missing.</li>
 *   <li>{@link io.mpathnbd.testing.peers.Images}: sparse images and direct reads/writes to check data;
 *       {@link io.mpathnbd.testing.peers.FreePort}: free loopback ports.</li>
 * </ul>
 *
 * Every process is killed when its fixture is closed, and at the latest when the JVM exits.
 */
package io.mpathnbd.testing.peers;
