package io.mpathnbd.server.frontend;

import io.mpathnbd.core.request.Errno;

/**
 * Why the front end refuses a request before it reaches the export, with the error the NBD spec names for it and a
 * message for structured error chunks. Constants, so refusing allocates nothing.
 */
enum Rejection {
    UNKNOWN_COMMAND(Errno.EINVAL, "unknown command"),
    BAD_FLAGS(Errno.EINVAL, "command flag not valid for this command or not negotiated"),
    NOT_ADVERTISED(Errno.EINVAL, "command not supported by this export"),
    NO_META_CONTEXT(Errno.EINVAL, "block status needs a metadata context selected with SET_META_CONTEXT"),
    TOO_LARGE(Errno.EINVAL, "length exceeds the maximum block size"),
    MISALIGNED(Errno.EINVAL, "offset or length is not a multiple of the minimum block size"),
    OUT_OF_RANGE(Errno.EINVAL, "request extends past the end of the export"),
    NO_SPACE(Errno.ENOSPC, "write extends past the end of the export"),
    READ_ONLY(Errno.EPERM, "export is read-only"),
    EMPTY_BLOCK_STATUS(Errno.EINVAL, "block status of zero length"),
    UNEXPECTED_PAYLOAD(Errno.EINVAL, "payload (NBD_CMD_FLAG_PAYLOAD_LEN) on a command that takes none"),
    SHUTTING_DOWN(Errno.ESHUTDOWN, "server is shutting down");

    private final int errno;
    private final String message;

    Rejection(int errno, String message) {
        this.errno = errno;
        this.message = message;
    }

    int errno() {
        return errno;
    }

    String message() {
        return message;
    }
}
