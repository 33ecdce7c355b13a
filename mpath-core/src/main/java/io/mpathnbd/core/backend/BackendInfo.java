package io.mpathnbd.core.backend;

/**
 * What a backend session reports once connected: the disk as this path sees it.
 *
 * @param size disk size in bytes
 * @param capabilities {@link Capability} bits
 * @param minBlockSize smallest request granularity (power of two, 1 if none)
 * @param preferredBlockSize preferred granularity (power of two)
 * @param maxPayload largest READ/WRITE payload the backend accepts in one request
 * @param identity a stable identity of the underlying disk (e.g. SCSI VPD 0x83 designator), or null if the
 *     transport has none; used to refuse a path that reaches a different disk
 * @param description human-readable description (export description, product), may be null
 */
public record BackendInfo(
        long size,
        int capabilities,
        int minBlockSize,
        int preferredBlockSize,
        int maxPayload,
        String identity,
        String description) {

    public boolean has(int capability) {
        return (capabilities & capability) != 0;
    }
}
