package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.Opcodes;
import io.mpathnbd.iscsi.pdu.TaskManagementRequest;
import io.mpathnbd.iscsi.pdu.TaskManagementResponse;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to a task that got no answer within the task timeout: ABORT TASK; if that is not confirmed within
 * the abort timeout, LUN RESET (shared by every task of that LUN timing out meanwhile; on success the LUN's other
 * tasks in flight were aborted by the target too); if that is not confirmed either, the connection is closed. A
 * timed-out task's callback fires with TIMEOUT only once one of these outcomes is known. Confined to the event loop.
 */
final class AbortEscalation {
    private static final Logger LOG = LoggerFactory.getLogger(AbortEscalation.class);

    /** What the escalation needs from its connection. */
    interface Session {
        int newTag();

        void sendImmediate(TaskManagementRequest request);

        int expStatSN();

        int nextCmdSN();

        /** Removes the task from the table and fails it (no-op if it already finished). */
        void finish(ActiveTask task, TaskFailure.Kind kind, String message);

        /** Tasks already sent on {@code lunField}, unfinished. */
        List<ActiveTask> sentTasks(long lunField);

        ScheduledFuture<?> schedule(Runnable r, long nanos);

        void failConnection(String reason);

        String display();
    }

    private final class Exchange {
        final int tag;
        final long lunField;
        final ActiveTask aborted; // null for a LUN reset
        final List<ActiveTask> timedOut = new ArrayList<>();
        final List<ActiveTask> affected;
        ScheduledFuture<?> timer;

        Exchange(int tag, long lunField, ActiveTask aborted, List<ActiveTask> affected) {
            this.tag = tag;
            this.lunField = lunField;
            this.aborted = aborted;
            this.affected = affected;
        }
    }

    private final Session session;
    private final long abortTimeoutNanos;
    private final String timeoutText;
    private final IntObjectMap<Exchange> pending = new IntObjectHashMap<>();
    private final Map<Long, Exchange> resets = new HashMap<>();

    AbortEscalation(Session session, Duration taskTimeout, Duration abortTimeout) {
        this.session = session;
        this.abortTimeoutNanos = abortTimeout.toNanos();
        this.timeoutText = "no answer within " + taskTimeout.toMillis() + " ms";
    }

    /** {@code task} (already sent) passed its deadline. */
    void timedOut(ActiveTask task) {
        task.markTimedOut();
        LOG.warn("{}: {} got {}; aborting it", session.display(), task.describe(), timeoutText);
        Exchange reset = resets.get(task.lunField);
        if (reset != null) {
            reset.timedOut.add(task);
            return;
        }
        int tag = session.newTag();
        Exchange ex = new Exchange(tag, task.lunField, task, List.of());
        start(ex, new TaskManagementRequest(true, TaskManagementRequest.ABORT_TASK, task.lunField, tag, task.itt,
                session.nextCmdSN(), session.expStatSN(), task.cmdSN(), 0));
    }

    /** A Task Management Response; true if it belonged to an escalation. */
    boolean onResponse(TaskManagementResponse response) {
        Exchange ex = pending.remove(response.itt());
        if (ex == null) {
            return false;
        }
        ex.timer.cancel(false);
        int code = response.response();
        if (ex.aborted != null) {
            if (code == TaskManagementResponse.FUNCTION_COMPLETE || code == TaskManagementResponse.TASK_DOES_NOT_EXIST) {
                session.finish(ex.aborted, TaskFailure.Kind.TIMEOUT, timeoutText + "; aborted with ABORT TASK");
            } else {
                reset(ex.aborted, "ABORT TASK answered with response " + code);
            }
        } else {
            resets.remove(ex.lunField);
            if (code == TaskManagementResponse.FUNCTION_COMPLETE) {
                LOG.warn("{}: LUN RESET done after a task timeout", session.display());
                for (ActiveTask t : ex.timedOut) {
                    session.finish(t, TaskFailure.Kind.TIMEOUT, timeoutText + "; ABORT TASK failed, LUN RESET done");
                }
                for (ActiveTask t : ex.affected) {
                    if (!t.timedOut()) {
                        session.finish(t, TaskFailure.Kind.ABORTED, "aborted by a LUN RESET after a task timeout");
                    }
                }
            } else {
                session.failConnection("a task timed out, ABORT TASK failed and LUN RESET answered with response "
                        + code);
            }
        }
        return true;
    }

    /** The target rejected a PDU with {@code tag}; true if it was one of ours (treated as a failed function). */
    boolean onReject(int tag) {
        Exchange ex = pending.get(tag);
        if (ex == null) {
            return false;
        }
        onResponse(new TaskManagementResponse(TaskManagementResponse.FUNCTION_REJECTED, tag, 0, 0, 0));
        return true;
    }

    /** Cancels the timers (the connection is closing; its tasks fail on their own). */
    void close() {
        for (Exchange ex : pending.values()) {
            ex.timer.cancel(false);
        }
        pending.clear();
        resets.clear();
    }

    private void reset(ActiveTask task, String why) {
        if (task.finished()) {
            return;
        }
        Exchange running = resets.get(task.lunField);
        if (running != null) {
            running.timedOut.add(task);
            return;
        }
        LOG.warn("{}: {} for {}; resetting the LUN", session.display(), why, task.describe());
        int tag = session.newTag();
        Exchange ex = new Exchange(tag, task.lunField, null, session.sentTasks(task.lunField));
        ex.timedOut.add(task);
        resets.put(task.lunField, ex);
        start(ex, new TaskManagementRequest(true, TaskManagementRequest.LOGICAL_UNIT_RESET, task.lunField, tag,
                Opcodes.RESERVED_TAG, session.nextCmdSN(), session.expStatSN(), session.nextCmdSN(), 0));
    }

    private void start(Exchange ex, TaskManagementRequest request) {
        pending.put(ex.tag, ex);
        ex.timer = session.schedule(() -> unanswered(ex), abortTimeoutNanos);
        session.sendImmediate(request);
    }

    private void unanswered(Exchange ex) {
        if (pending.remove(ex.tag) == null) {
            return;
        }
        String limit = TimeUnit.NANOSECONDS.toMillis(abortTimeoutNanos) + " ms";
        if (ex.aborted != null) {
            reset(ex.aborted, "ABORT TASK not answered within " + limit);
        } else {
            resets.remove(ex.lunField);
            session.failConnection("a task timed out and neither ABORT TASK nor LUN RESET was answered within "
                    + limit);
        }
    }
}
