package io.mpathnbd.file;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.ZoneOps;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.zone.HostManagedZones;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.core.zone.ZoneRefusal;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The zone commands of a session on an emulated zoned file, answered by the image's shared state machine on the
 * session's I/O threads. Management is made durable (pointers saved) before it is answered.
 */
final class FileZoneOps implements ZoneOps {
    private final FileSession session;
    private final ZonedImage image;
    private final FileChannel channel;
    private final boolean readOnly;

    FileZoneOps(FileSession session, ZonedImage image, FileChannel channel, boolean readOnly) {
        this.session = session;
        this.image = image;
        this.channel = channel;
        this.readOnly = readOnly;
    }

    @Override
    public ZoneLayout layout() {
        return image.zones().layout();
    }

    @Override
    public CompletableFuture<ControlResult<List<Zone>>> report(long offset, long length) {
        return session.control("REPORT ZONES", () -> {
            HostManagedZones zones = image.zones();
            ZoneRefusal bad = zones.checkRange(offset, length);
            return bad != null ? failed(bad) : ControlResult.ok(zones.report(offset, length));
        });
    }

    @Override
    public CompletableFuture<ControlResult<Void>> manage(ZoneAction action, long zoneStart) {
        return session.control(action + " ZONE", () -> {
            if (readOnly) {
                return ControlResult.failed(Failure.target(Errno.EPERM, "zoned file is read-only: cannot "
                        + action + " a zone"));
            }
            ZoneRefusal refused = image.zones().manage(action, zoneStart);
            if (refused != null) {
                return failed(refused);
            }
            image.saveIfChanged(channel);
            return ControlResult.ok();
        });
    }

    @Override
    public CompletableFuture<ControlResult<Void>> manageAll(ZoneAction action) {
        return session.control(action + " ALL ZONES", () -> {
            if (readOnly) {
                return ControlResult.failed(Failure.target(Errno.EPERM, "zoned file is read-only: cannot "
                        + action + " zones"));
            }
            ZoneRefusal refused = image.zones().manageAll(action);
            if (refused != null) {
                return failed(refused);
            }
            image.saveIfChanged(channel);
            return ControlResult.ok();
        });
    }

    private static <T> ControlResult<T> failed(ZoneRefusal r) {
        return ControlResult.failed(Failure.zone(r.error(), r.message()));
    }
}
