package io.mpathnbd.iscsi.session;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * One SCSI command for {@link IscsiConnection#execute}. {@code dataOut} (writes only) is NOT consumed: the
 * connection takes its own retained slices of it and releases them, so the caller keeps and releases its reference.
 * {@code dataInLength} is the number of bytes the command reads (0 if none). A command is either a read or a write.
 */
public record ScsiTask(long lun, byte[] cdb, ByteBuf dataOut, int dataInLength) {
    public ScsiTask {
        Objects.requireNonNull(cdb, "cdb");
        if (cdb.length == 0 || cdb.length > 16) {
            throw new IllegalArgumentException("CDB of " + cdb.length + " bytes, 1 to 16 are supported");
        }
        if (dataInLength < 0) {
            throw new IllegalArgumentException("dataInLength " + dataInLength);
        }
        if (dataOut != null && dataInLength > 0) {
            throw new IllegalArgumentException("bidirectional commands are not supported");
        }
    }

    /** A command without data (TEST UNIT READY, SYNCHRONIZE CACHE...). */
    public static ScsiTask noData(long lun, byte[] cdb) {
        return new ScsiTask(lun, cdb, null, 0);
    }

    public static ScsiTask read(long lun, byte[] cdb, int length) {
        return new ScsiTask(lun, cdb, null, length);
    }

    public static ScsiTask write(long lun, byte[] cdb, ByteBuf data) {
        return new ScsiTask(lun, cdb, Objects.requireNonNull(data, "data"), 0);
    }

    /** Bytes written by this task (0 if it does not write). */
    public int dataOutLength() {
        return dataOut == null ? 0 : dataOut.readableBytes();
    }
}
