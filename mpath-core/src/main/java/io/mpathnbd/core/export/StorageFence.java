package io.mpathnbd.core.export;

import io.mpathnbd.core.path.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A fence the storage itself enforces for the in-doubt writes of a path that timed out or broke: once it has
 * completed, nothing the hung path's nexus still sends can reach the medium. Installed on an export with
 * {@link Export#storageFence(StorageFence)} by a layer above (issue 13: persistent reservations, {@code fence:
 * reservation}); without one, or when it cannot be carried out, the {@link WriteFence} falls back to the TCP reset
 * and the fence delay.
 */
@FunctionalInterface
public interface StorageFence {
    /**
     * Fences {@code hung}'s nexus (the session that timed out or broke), through another path.
     *
     * @return completes with an {@link Outcome}: done (then the in-doubt writes may be retried elsewhere at once),
     *     or why not (then the caller falls back to the fence delay); never exceptionally
     */
    CompletableFuture<Outcome> fence(Path hung);

    /**
     * @param fenced true: the hung nexus can no longer write
     * @param detail how it was fenced, or why it could not be
     */
    record Outcome(boolean fenced, String detail) {
        public static Outcome done(String how) {
            return new Outcome(true, how);
        }

        public static Outcome notPossible(String why) {
            return new Outcome(false, why);
        }
    }
}
