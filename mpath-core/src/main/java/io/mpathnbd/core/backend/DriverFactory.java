package io.mpathnbd.core.backend;

import java.net.URI;

/** Makes drivers for one URI scheme ({@code nbd}, {@code file}, later {@code iscsi}). */
public interface DriverFactory {
    /** The URI scheme this factory handles. */
    String scheme();

    /**
     * Parses and validates a path URI; throws {@link IllegalArgumentException} with a message naming what is wrong.
     */
    BackendDriver create(URI uri, BackendContext context, DriverOptions options);
}
