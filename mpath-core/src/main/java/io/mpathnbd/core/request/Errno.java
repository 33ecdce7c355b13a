package io.mpathnbd.core.request;

/** The error numbers the core reports to clients (POSIX values, as NBD carries them on the wire). */
public final class Errno {
    public static final int OK = 0;
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    private Errno() {
    }

    public static String name(int errno) {
        switch (errno) {
            case OK: return "OK";
            case EPERM: return "EPERM";
            case EIO: return "EIO";
            case ENOMEM: return "ENOMEM";
            case EINVAL: return "EINVAL";
            case ENOSPC: return "ENOSPC";
            case EOVERFLOW: return "EOVERFLOW";
            case ENOTSUP: return "ENOTSUP";
            case ESHUTDOWN: return "ESHUTDOWN";
            default: return "errno " + errno;
        }
    }
}
