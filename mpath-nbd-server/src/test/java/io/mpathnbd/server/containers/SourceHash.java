package io.mpathnbd.server.containers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The hash of the sources that go into the gateway jar, computed exactly as {@code scripts/docker-build} does
 * ({@code find ROOTS -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16}), so a test can tell whether
 * the gateway image was built from this tree.
 */
final class SourceHash {
    /** Keep in step with source_hash() in scripts/docker-build. */
    private static final List<String> ROOTS = List.of("pom.xml", "mpath-core/pom.xml", "mpath-nbd-server/pom.xml",
            "mpath-core/src/main", "mpath-nbd-server/src/main");

    private SourceHash() {
    }

    static String of(Path repo) {
        List<String> files = new ArrayList<>();
        for (String root : ROOTS) {
            Path start = repo.resolve(root);
            if (!Files.exists(start)) {
                throw new AssertionError("not a checkout of mpath-nbd: " + start + " is missing");
            }
            try (Stream<Path> walk = Files.walk(start)) {
                walk.filter(Files::isRegularFile).forEach(f -> files.add(repo.relativize(f).toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        files.sort(null);
        MessageDigest listing = sha256();
        for (String file : files) {
            byte[] content;
            try {
                content = Files.readAllBytes(repo.resolve(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            String line = HexFormat.of().formatHex(sha256().digest(content)) + "  " + file + "\n";
            listing.update(line.getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(listing.digest()).substring(0, 16);
    }

    /** The repository root: the nearest directory upwards from the working directory that holds {@code mvnw}. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("mvnw"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new AssertionError("cannot find the repository root (no mvnw above " + Path.of("").toAbsolutePath()
                    + ")");
        }
        return dir;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
