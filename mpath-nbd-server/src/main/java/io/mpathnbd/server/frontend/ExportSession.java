package io.mpathnbd.server.frontend;

import io.mpathnbd.core.export.Export;

/**
 * What one connection negotiated for transmission: fixed when it enters transmission (GO or EXPORT_NAME).
 *
 * @param export the export requests go to (null only in unit tests of the validation rules)
 * @param name the export's canonical name, for logs
 * @param size export size in bytes as advertised
 * @param transmissionFlags the flags advertised to the client (NBD_FLAG_*)
 * @param structuredReplies whether replies are structured: NBD_OPT_STRUCTURED_REPLY or NBD_OPT_EXTENDED_HEADERS
 * @param metaContextId the id given to {@code base:allocation} by SET_META_CONTEXT for this export, 0 if none
 * @param allocationFromExport whether the export reports allocation itself; if not, BLOCK_STATUS answers "all data"
 * @param blockSizes the constraints advertised and enforced
 * @param extendedHeaders whether NBD_OPT_EXTENDED_HEADERS was negotiated: 32-byte headers both ways, 64-bit lengths,
 *     PAYLOAD_LEN on writes, no simple replies
 * @param zoneContextId the id of {@code x-mpath:zone-type-condition} (zoned exports only), 0 if not selected
 * @param writePointerContextId the id of {@code x-mpath:write-pointer} (zoned exports only), 0 if not selected
 */
record ExportSession(
        Export export,
        String name,
        long size,
        int transmissionFlags,
        boolean structuredReplies,
        int metaContextId,
        boolean allocationFromExport,
        BlockSizes blockSizes,
        boolean extendedHeaders,
        int zoneContextId,
        int writePointerContextId) {

    /** Any context selected: BLOCK_STATUS is allowed. */
    boolean hasMetaContext() {
        return metaContextId != 0 || hasZoneContext();
    }

    /** A zone context selected: BLOCK_STATUS reads the zones. */
    boolean hasZoneContext() {
        return zoneContextId != 0 || writePointerContextId != 0;
    }

    boolean has(int transmissionFlag) {
        return (transmissionFlags & transmissionFlag) != 0;
    }
}
