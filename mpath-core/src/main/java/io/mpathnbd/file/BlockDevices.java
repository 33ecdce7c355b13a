package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Sizes of Linux block devices, whose file size reads as 0: sysfs counts 512-byte sectors. */
final class BlockDevices {
    private BlockDevices() {
    }

    static long size(Path device) {
        Path sysfs = null;
        try {
            String name = device.toRealPath().getFileName().toString();
            sysfs = Paths.get("/sys/class/block", name, "size");
            return Long.parseLong(Files.readString(sysfs).trim()) * 512;
        } catch (IOException | NumberFormatException e) {
            throw new BackendException("cannot determine the size of " + device
                    + (sysfs != null ? " from " + sysfs : "") + ": " + e, e);
        }
    }
}
