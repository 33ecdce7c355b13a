package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.Errno;

/**
 * Classifies an NBD server's error reply. EIO, ESHUTDOWN and ENOMEM say the server or its storage cannot serve us right
 * now: a path failure, so another path may succeed. The others describe the request itself (invalid, no space,
 * read-only, unsupported flag, too large): the same on every path, so they go back to the client unchanged.
 */
final class NbdErrors {
    private NbdErrors() {
    }

    static Failure classify(int errno, String serverMessage, String what) {
        String message = serverMessage == null || serverMessage.isEmpty()
                ? what + ": server error " + Errno.name(errno)
                : what + ": server error " + Errno.name(errno) + ": " + serverMessage;
        switch (errno) {
            case Errno.EIO:
            case Errno.ESHUTDOWN:
            case Errno.ENOMEM:
                return Failure.path(message);
            case Errno.EINVAL:
            case Errno.ENOSPC:
            case Errno.EPERM:
            case Errno.ENOTSUP:
            case Errno.EOVERFLOW:
                return Failure.target(errno, message);
            default:
                // the spec: a client treats an error value it does not know as EINVAL
                return Failure.target(Errno.EINVAL, message + " (unknown error value, treated as EINVAL)");
        }
    }
}
