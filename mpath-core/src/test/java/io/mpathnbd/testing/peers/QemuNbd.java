package io.mpathnbd.testing.peers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * qemu-nbd serving a raw image: {@code qemu-nbd -t -f raw -x NAME -p PORT -b 127.0.0.1 -e SHARED IMAGE}. A third
 * server implementation (structured replies, BLOCK_SIZE info, base:allocation, OFFSET_HOLE chunks for sparse reads).
 * It advertises CAN_MULTI_CONN only when more than one client may connect ({@link Builder#shared(int)} &gt; 1, the
 * default). It knows only its one export name and refuses others.
 *
 * <pre>{@code
 * try (QemuNbd q = QemuNbd.start(image, "disk")) { ... q.uri() ... }
 * }</pre>
 */
public final class QemuNbd extends NbdPeer {
    private final Path image;

    private QemuNbd(Launched launched, String exportName, Path image) {
        super(launched.process(), launched.port(), exportName);
        this.image = image;
    }

    /** Serves {@code image} as {@code exportName} on a free port; the log goes next to the image. */
    public static QemuNbd start(Path image, String exportName) {
        return builder().image(image).exportName(exportName).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path image() {
        return image;
    }

    /** Options for one qemu-nbd; {@link #start()} launches it. */
    public static final class Builder {
        private Path image;
        private String exportName = "disk";
        private Path dir;
        private int port;
        private int shared = 16;
        private String program = "qemu-nbd";
        private final List<String> options = new ArrayList<>();

        private Builder() {
        }

        /** The raw image to serve (required). */
        public Builder image(Path image) {
            this.image = image.toAbsolutePath();
            return this;
        }

        /** Export name ({@code -x}); default "disk". */
        public Builder exportName(String name) {
            this.exportName = name;
            return this;
        }

        /** Directory for the log; default: the image's directory. */
        public Builder dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /** Fixed port; default: a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /**
         * How many clients may be connected at once ({@code -e}); default 16, because qemu-nbd's own default of 1
         * makes a reconnecting client wait until the server has noticed that the old connection is gone. With 1,
         * qemu-nbd does not advertise CAN_MULTI_CONN.
         */
        public Builder shared(int clients) {
            this.shared = clients;
            return this;
        }

        /**
         * TLS required: {@code --object tls-creds-x509,id=tls0,dir=DIR,endpoint=server,verify-peer=on|off
         * --tls-creds tls0} with the X.509 files in {@code dir} (see {@code core.support.TestPki#writeDirectory});
         * with {@code verifyPeer} clients must present a certificate signed by the directory's CA.
         */
        public Builder tls(Path certificates, boolean verifyPeer) {
            return option("--object", "tls-creds-x509,id=tls0,dir=" + certificates.toAbsolutePath()
                    + ",endpoint=server,verify-peer=" + (verifyPeer ? "on" : "off"), "--tls-creds", "tls0");
        }

        /** Another qemu-nbd than the one on PATH, e.g. qemu 10's ({@link NewerPeers#qemu10}). */
        public Builder program(String path) {
            this.program = path;
            return this;
        }

        /** Extra qemu-nbd options, e.g. "--cache=none", "--discard=unmap". */
        public Builder option(String... args) {
            options.addAll(List.of(args));
            return this;
        }

        /** Starts qemu-nbd and returns once it accepts connections; fails with its log if it cannot start. */
        public QemuNbd start() {
            if (image == null) {
                throw new IllegalStateException("qemu-nbd needs an image: image(..)");
            }
            Path workDir = PeerDirs.ensure(dir != null ? dir : image.getParent());
            Path log = workDir.resolve("qemu-nbd-" + System.nanoTime() + ".log");
            Launched launched = NbdPeer.launch(port, p -> {
                List<String> cmd = new ArrayList<>(List.of(program, "-t", "-f", "raw", "-x", exportName,
                        "-p", Integer.toString(p), "-b", HOST, "-e", Integer.toString(shared)));
                cmd.addAll(options);
                cmd.add(image.toString());
                return PeerProcess.start("qemu-nbd", log, cmd);
            });
            return new QemuNbd(launched, exportName, image);
        }
    }
}
