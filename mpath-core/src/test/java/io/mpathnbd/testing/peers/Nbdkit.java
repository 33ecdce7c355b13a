package io.mpathnbd.testing.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An nbdkit server on 127.0.0.1, started as {@code nbdkit -f -p PORT -i 127.0.0.1 --exit-with-parent [--filter=..]
 * PLUGIN params}. nbdkit accepts any export name.
 *
 * <pre>{@code
 * try (Nbdkit disk = Nbdkit.builder().memory(64 << 20).start()) { ... disk.uri() ... }
 * try (Nbdkit a = Nbdkit.file(image); Nbdkit b = Nbdkit.file(image)) { ... two paths to one disk ... }
 * Nbdkit faulty = Nbdkit.builder().dir(tmp).error("EIO", "100%", tmp.resolve("inject")).memory(1 << 20).start();
 * Nbdkit hung = Nbdkit.builder().pause().memory(1 << 20).start(); hung.pause(); ... hung.resume();
 * }</pre>
 *
 * Filters apply in the order their builder methods are called (the first is closest to the client).
 */
public final class Nbdkit extends NbdPeer {
    private final Path image;
    private final Path pauseSocket;

    private Nbdkit(Launched launched, Path image, Path pauseSocket) {
        super(launched.process(), launched.port(), "");
        this.image = image;
        this.pauseSocket = pauseSocket;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** nbdkit with the memory plugin ({@code memory size=SIZE}): a RAM disk, advertises CAN_MULTI_CONN. */
    public static Nbdkit memory(long size) {
        return builder().memory(size).start();
    }

    /** nbdkit with the file plugin serving {@code image}: two of these on one image are two paths to one disk. */
    public static Nbdkit file(Path image) {
        return builder().file(image).start();
    }

    /** The image served by the file plugin, or null for other plugins. */
    public Path image() {
        return image;
    }

    /**
     * Pause filter: requests received from now on hang until {@link #resume()}. Returns once nbdkit has confirmed
     * (after finishing the requests it had already started). Needs {@link Builder#pause()}.
     */
    public void pause() {
        control('p', 'P');
    }

    /** Pause filter: lets held and new requests proceed again. */
    public void resume() {
        control('r', 'R');
    }

    private void control(char command, char expected) {
        if (pauseSocket == null) {
            throw new IllegalStateException("nbdkit was started without the pause filter (Builder.pause())");
        }
        CompletableFuture<Character> answer = CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(pauseSocket));
                ch.write(ByteBuffer.wrap(new byte[] {(byte) command}));
                ByteBuffer in = ByteBuffer.allocate(1);
                while (in.hasRemaining()) {
                    if (ch.read(in) < 0) {
                        throw new IOException("pause control socket closed without an answer");
                    }
                }
                return (char) in.get(0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            char got = answer.get(10, TimeUnit.SECONDS);
            if (got != expected) {
                throw new IllegalStateException("pause filter answered '" + got + "' to '" + command + "'");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("pause filter of " + this + " did not answer '" + command + "': " + e
                    + "\n" + process().logTail(), e);
        }
    }

    /** Options for one nbdkit server; {@link #start()} launches it. A plugin must be chosen. */
    public static final class Builder {
        private Path dir;
        private int port;
        private String plugin;
        private final List<String> pluginParams = new ArrayList<>();
        private final List<String> filters = new ArrayList<>();
        private final List<String> filterParams = new ArrayList<>();
        private final List<String> options = new ArrayList<>();
        private final List<String> extraParams = new ArrayList<>();
        private Path image;
        private boolean pause;

        private Builder() {
        }

        /** Directory for the log and the pause socket; default: a private temporary directory removed on close. */
        public Builder dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /** Fixed port; default: a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Plugin {@code memory size=SIZE}. */
        public Builder memory(long size) {
            return plugin("memory", "size=" + size);
        }

        /** Plugin {@code file file=IMAGE}. */
        public Builder file(Path image) {
            this.image = image.toAbsolutePath();
            return plugin("file", "file=" + this.image);
        }

        /** Plugin {@code nbd}: a proxy to another NBD server. */
        public Builder nbdProxy(String host, int port, String exportName) {
            return plugin("nbd", "hostname=" + host, "port=" + port, "export=" + exportName);
        }

        /** Any plugin with its parameters ({@code key=value}). */
        public Builder plugin(String name, String... params) {
            if (plugin != null) {
                throw new IllegalStateException("plugin already chosen: " + plugin);
            }
            plugin = name;
            pluginParams.addAll(List.of(params));
            return this;
        }

        /** Any filter ({@code --filter=NAME}) with its parameters ({@code key=value}). */
        public Builder filter(String name, String... params) {
            filters.add(name);
            filterParams.addAll(List.of(params));
            return this;
        }

        /**
         * Error filter failing every operation: {@code error=ERRNO} (EIO, EINVAL, ENOSPC, EPERM, ENOMEM, ESHUTDOWN),
         * {@code error-rate=RATE} (e.g. "100%", "10%"), and {@code error-file=FILE} if not null (errors only while
         * that file exists, so a test switches them on and off by creating and deleting it).
         */
        public Builder error(String errno, String rate, Path errorFile) {
            return errorFor(null, errno, rate, errorFile);
        }

        /**
         * Error filter for one operation only: {@code op} is pread, pwrite, trim, zero, flush, extents or cache
         * ({@code error-pwrite=ENOSPC}, ...). May be called for several operations.
         */
        public Builder errorFor(String op, String errno, String rate, Path errorFile) {
            String key = op == null ? "error" : "error-" + op;
            List<String> p = new ArrayList<>();
            p.add(key + "=" + errno);
            p.add(key + "-rate=" + rate);
            if (errorFile != null) {
                p.add(key + "-file=" + errorFile.toAbsolutePath());
            }
            if (filters.contains("error")) {
                // one error filter instance takes every error-* parameter
                filterParams.addAll(p);
                return this;
            }
            return filter("error", p.toArray(String[]::new));
        }

        /** Delay filter: {@code delay-read} and {@code delay-write} (either may be null). */
        public Builder delay(Duration read, Duration write) {
            List<String> p = new ArrayList<>();
            if (read != null) {
                p.add("delay-read=" + read.toMillis() + "ms");
            }
            if (write != null) {
                p.add("delay-write=" + write.toMillis() + "ms");
            }
            return filter("delay", p.toArray(String[]::new));
        }

        /** Pause filter with a control socket in the peer's directory; use {@link Nbdkit#pause()}/{@code resume()}. */
        public Builder pause() {
            pause = true;
            return this;
        }

        /** {@code --no-sr}: refuse structured replies, so clients get simple replies only. */
        public Builder noStructuredReplies() {
            return option("--no-sr");
        }

        /** {@code -r}: read-only export. */
        public Builder readOnly() {
            return option("-r");
        }

        /**
         * {@code --tls=require --tls-certificates=DIR}: TLS with the X.509 files in {@code dir} (see
         * {@code core.support.TestPki#writeDirectory}); with {@code verifyPeer} also {@code --tls-verify-peer}, so
         * clients must present a certificate signed by the directory's CA.
         */
        public Builder tls(Path certificates, boolean verifyPeer) {
            option("--tls=require", "--tls-certificates=" + certificates.toAbsolutePath());
            return verifyPeer ? option("--tls-verify-peer") : this;
        }

        /** Extra nbdkit options, placed before the filters and the plugin (e.g. "-t", "4"). */
        public Builder option(String... args) {
            options.addAll(List.of(args));
            return this;
        }

        /** Extra {@code key=value} parameters after the plugin (for the plugin or any filter). */
        public Builder param(String... params) {
            extraParams.addAll(List.of(params));
            return this;
        }

        /** Starts nbdkit and returns once it accepts connections; fails with its log if it cannot start. */
        public Nbdkit start() {
            if (plugin == null) {
                throw new IllegalStateException("choose a plugin: memory(..), file(..), nbdProxy(..) or plugin(..)");
            }
            boolean ownDir = dir == null;
            Path workDir = ownDir ? PeerDirs.create("nbdkit") : PeerDirs.ensure(dir);
            Path pauseSocket = null;
            List<String> pauseParams = new ArrayList<>();
            if (pause) {
                pauseSocket = shortSocketPath(workDir);
                pauseParams.add("pause-control=" + pauseSocket);
            }
            Path log = workDir.resolve("nbdkit-" + System.nanoTime() + ".log");
            Launched launched;
            try {
                launched = launch(log, pauseSocket, pauseParams);
            } catch (RuntimeException e) {
                if (ownDir) {
                    PeerDirs.deleteTree(workDir);
                }
                throw e;
            }
            if (ownDir) {
                launched.process().onClose(() -> PeerDirs.deleteTree(workDir));
            } else if (pauseSocket != null && !pauseSocket.startsWith(workDir.toAbsolutePath())) {
                Path socketDir = pauseSocket.getParent();
                launched.process().onClose(() -> PeerDirs.deleteTree(socketDir));
            }
            return new Nbdkit(launched, image, pauseSocket);
        }

        private Launched launch(Path log, Path sock, List<String> pauseParams) {
            Launched launched = NbdPeer.launch(port, p -> {
                deleteQuietly(sock);
                List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "-p", Integer.toString(p), "-i", HOST,
                        "--exit-with-parent"));
                cmd.addAll(options);
                for (String f : filters) {
                    cmd.add("--filter=" + f);
                }
                if (sock != null) {
                    cmd.add("--filter=pause");
                }
                cmd.add(plugin);
                cmd.addAll(pluginParams);
                cmd.addAll(filterParams);
                cmd.addAll(pauseParams);
                cmd.addAll(extraParams);
                return PeerProcess.start("nbdkit", log, cmd);
            });
            if (sock != null) {
                try {
                    awaitSocket(sock, launched.process());
                } catch (RuntimeException e) {
                    launched.process().close();
                    throw e;
                }
            }
            return launched;
        }

        /** Unix socket paths are limited to 107 bytes: fall back to a short private directory. */
        private static Path shortSocketPath(Path workDir) {
            Path candidate = workDir.toAbsolutePath().resolve("pause.sock");
            if (candidate.toString().length() < 100) {
                return candidate;
            }
            return PeerDirs.create("pause").resolve("pause.sock");
        }

        private static void awaitSocket(Path socket, PeerProcess process) {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!Files.exists(socket)) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    throw new IllegalStateException("nbdkit made no pause-control socket " + socket + ":\n"
                            + process.logTail());
                }
                PeerProcess.sleep(10);
            }
        }

        private static void deleteQuietly(Path p) {
            if (p == null) {
                return;
            }
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
