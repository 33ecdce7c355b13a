package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.Opcodes;

/**
 * When to ping and when a ping went unanswered: a NOP-Out goes out after {@code interval} without receiving
 * anything, and the connection counts as dead when its NOP-In has not come back within {@code timeout}. Interval 0
 * switches pinging off. Pure bookkeeping, driven by the connection's periodic tick; confined to its event loop.
 */
final class NopKeepalive {
    enum Action { NONE, PING, DEAD }

    private final long intervalNanos;
    private final long timeoutNanos;
    private long lastReceiveNanos;
    private int pingItt = Opcodes.RESERVED_TAG;
    private long pingSentNanos;

    NopKeepalive(long intervalNanos, long timeoutNanos, long nowNanos) {
        this.intervalNanos = intervalNanos;
        this.timeoutNanos = timeoutNanos;
        this.lastReceiveNanos = nowNanos;
    }

    void received(long nowNanos) {
        lastReceiveNanos = nowNanos;
    }

    /** What the tick should do now. */
    Action check(long nowNanos) {
        if (intervalNanos <= 0) {
            return Action.NONE;
        }
        if (pingItt != Opcodes.RESERVED_TAG) {
            return nowNanos - pingSentNanos >= timeoutNanos ? Action.DEAD : Action.NONE;
        }
        return nowNanos - lastReceiveNanos >= intervalNanos ? Action.PING : Action.NONE;
    }

    void pingSent(int itt, long nowNanos) {
        pingItt = itt;
        pingSentNanos = nowNanos;
    }

    /** True when {@code itt} answers our outstanding ping. */
    boolean answered(int itt) {
        if (itt != Opcodes.RESERVED_TAG && itt == pingItt) {
            pingItt = Opcodes.RESERVED_TAG;
            return true;
        }
        return false;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }
}
