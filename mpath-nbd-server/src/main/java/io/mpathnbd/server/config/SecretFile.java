package io.mpathnbd.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a secret (a CHAP secret, the admin token) from its file; messages name the file, never the content. */
final class SecretFile {
    private SecretFile() {
    }

    /** The file's content without the one trailing line break editors and {@code echo} add. */
    static String read(String where, String file) {
        String text;
        try {
            text = Files.readString(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(where + ": cannot read " + file + ": no such file");
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(where + ": cannot read " + file + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
        return text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }
}
