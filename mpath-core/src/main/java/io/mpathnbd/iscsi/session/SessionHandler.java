package io.mpathnbd.iscsi.session;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.iscsi.pdu.AsyncMessage;
import io.mpathnbd.iscsi.pdu.DataIn;
import io.mpathnbd.iscsi.pdu.DataOutBurst;
import io.mpathnbd.iscsi.pdu.IscsiPdu;
import io.mpathnbd.iscsi.pdu.IscsiProtocolException;
import io.mpathnbd.iscsi.pdu.LogoutRequest;
import io.mpathnbd.iscsi.pdu.LogoutResponse;
import io.mpathnbd.iscsi.pdu.NopIn;
import io.mpathnbd.iscsi.pdu.NopOut;
import io.mpathnbd.iscsi.pdu.Opcodes;
import io.mpathnbd.iscsi.pdu.ReadyToTransfer;
import io.mpathnbd.iscsi.pdu.Reject;
import io.mpathnbd.iscsi.pdu.ScsiCommand;
import io.mpathnbd.iscsi.pdu.ScsiResponse;
import io.mpathnbd.iscsi.pdu.SerialNumbers;
import io.mpathnbd.iscsi.pdu.TaskManagementRequest;
import io.mpathnbd.iscsi.pdu.TaskManagementResponse;
import io.mpathnbd.iscsi.pdu.TextKeys;
import io.mpathnbd.iscsi.pdu.TextRequest;
import io.mpathnbd.iscsi.pdu.TextResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full feature phase of one connection (the session's only one): sends SCSI commands inside the CmdSN window
 * (holding them locally while it is closed) with immediate and unsolicited data, answers R2Ts with Data-Out bursts,
 * gathers Data-In, completes tasks on their status, keeps ExpStatSN, answers and sends NOPs, escalates task timeouts,
 * honours asynchronous messages and rejects, and logs out. Everything runs on the channel's event loop.
 */
final class SessionHandler extends ChannelInboundHandlerAdapter implements AbortEscalation.Session {
    private static final Logger LOG = LoggerFactory.getLogger(SessionHandler.class);
    private static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final IscsiSessionConfig config;
    private final NegotiatedParameters params;
    private final String display;
    private final CmdSnWindow window;
    private final TaskTable tasks;
    private final ArrayDeque<ActiveTask> waiting = new ArrayDeque<>();
    private final NopKeepalive keepalive;
    private final AbortEscalation escalation;
    private final long taskTimeoutNanos;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private int expStatSN;
    private ScheduledFuture<?> tick;
    private boolean flushPending;
    /** No new tasks: the connection is closing, logging out, or draining for a logout the target asked for. */
    private boolean refusing;
    private String refusal;
    private boolean orderly;
    private boolean locallyClosed;
    private volatile String lossReason;
    private Consumer<byte[]> unitAttentionListener;
    private TextExchange text;
    private int logoutItt = Opcodes.RESERVED_TAG;
    private CompletableFuture<Void> logoutResult;
    private ScheduledFuture<?> logoutTimer;

    SessionHandler(IscsiSessionConfig config, NegotiatedParameters params, String display, int nextCmdSN,
            int expCmdSN, int maxCmdSN, int expStatSN) {
        this.config = config;
        this.params = params;
        this.display = display;
        this.window = new CmdSnWindow(nextCmdSN, expCmdSN, maxCmdSN);
        this.expStatSN = expStatSN;
        this.tasks = new TaskTable(1);
        this.taskTimeoutNanos = config.taskTimeout().toNanos();
        this.keepalive = new NopKeepalive(config.nopInterval().toNanos(), config.nopTimeout().toNanos(),
                System.nanoTime());
        this.escalation = new AbortEscalation(this, config.taskTimeout(), config.abortTimeout());
    }

    // ---- lifecycle ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        long period = Math.min(config.taskTimeout().toNanos(), config.nopTimeout().toNanos());
        if (!config.nopInterval().isZero()) {
            period = Math.min(period, config.nopInterval().toNanos());
        }
        period = Math.max(MIN_TICK_NANOS, Math.min(MAX_TICK_NANOS, period / 4));
        tick = ctx.executor().scheduleAtFixedRate(this::onTick, period, period, TimeUnit.NANOSECONDS);
        if (!ctx.channel().isActive()) {
            channelInactive(ctx); // closed while logging in: settle at once
        }
    }

    CompletableFuture<Void> closeFuture() {
        return closed;
    }

    String lossReason() {
        return lossReason;
    }

    void onUnitAttention(Consumer<byte[]> listener) {
        this.unitAttentionListener = listener;
    }

    /** Abrupt close by the owner: outstanding tasks fail CONNECTION_LOST. */
    void close() {
        locallyClosed = true;
        refuse("connection closed by the initiator");
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (closed.isDone()) {
            return; // settled already (closed during the hand-over from login)
        }
        if (!orderly && !locallyClosed && lossReason == null) {
            lossReason = "connection closed by the target";
        }
        refuse(lossReason != null ? "connection lost: " + lossReason : "connection closed");
        // the socket is closed: say so first, so that callbacks and listeners below already see it
        closed.complete(null);
        if (tick != null) {
            tick.cancel(false);
        }
        if (logoutTimer != null) {
            logoutTimer.cancel(false);
        }
        escalation.close();
        String why = refusal;
        while (!waiting.isEmpty()) {
            ActiveTask t = waiting.poll();
            tasks.remove(t.itt);
            t.fail(TaskFailure.Kind.CONNECTION_LOST, why);
        }
        for (ActiveTask t : tasks.snapshot()) {
            tasks.remove(t.itt);
            if (t.timedOut()) {
                t.fail(TaskFailure.Kind.TIMEOUT, "no answer within " + config.taskTimeout().toMillis()
                        + " ms; ABORT TASK and LUN RESET failed, connection closed");
            } else {
                t.fail(TaskFailure.Kind.CONNECTION_LOST, why);
            }
        }
        if (text != null) {
            text.fail(new IOException(display + ": " + why));
            text = null;
        }
        if (lossReason != null) {
            LOG.warn("{}: connection lost: {}", display, lossReason);
        } else {
            LOG.info("{}: connection closed{}", display, orderly ? " after logout" : "");
        }
        if (logoutResult != null && !logoutResult.isDone()) {
            if (orderly) {
                logoutResult.complete(null);
            } else {
                logoutResult.completeExceptionally(new IOException(display + ": logout failed: " + why));
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String what = cause instanceof IscsiProtocolException ? "protocol violation: " + cause.getMessage()
                : cause instanceof IOException ? "I/O error: " + BackendException.describe(cause) : cause.toString();
        if (!(cause instanceof IOException) && !(cause instanceof IscsiProtocolException)) {
            LOG.error("{}: unexpected error, closing the connection", display, cause);
        }
        failConnection(what);
    }

    @Override
    public void failConnection(String reason) {
        if (lossReason == null && !orderly && !locallyClosed) {
            lossReason = reason;
        }
        refuse(reason);
        ctx.close();
    }

    private void refuse(String why) {
        if (!refusing) {
            refusing = true;
            refusal = why;
        }
    }

    // ---- submitting tasks ----

    /** Takes over {@code ownedWriteData} (a retained slice, or null). */
    void submit(ScsiTask task, ScsiCallback callback, ByteBuf ownedWriteData, boolean flushNow) {
        if (refusing) {
            if (ownedWriteData != null) {
                ownedWriteData.release();
            }
            callback.failed(new TaskFailure(TaskFailure.Kind.CONNECTION_LOST, refusal));
            return;
        }
        long lunField;
        try {
            lunField = Luns.encode(task.lun());
        } catch (IllegalArgumentException e) {
            if (ownedWriteData != null) {
                ownedWriteData.release();
            }
            callback.failed(new TaskFailure(TaskFailure.Kind.REJECTED, e.getMessage()));
            return;
        }
        ActiveTask t = new ActiveTask(task, callback, ownedWriteData, lunField, tasks.newTag(),
                System.nanoTime() + taskTimeoutNanos);
        tasks.add(t);
        if (waiting.isEmpty() && window.isOpen()) {
            send(t);
            if (flushNow) {
                ctx.flush();
            } else {
                flushPending = true;
            }
        } else {
            waiting.add(t);
        }
    }

    private void send(ActiveTask t) {
        int cmdSN = window.take();
        t.sent(cmdSN);
        ByteBuf w = t.writeData();
        byte[] cdb = t.task.cdb();
        if (w == null) {
            boolean read = t.isRead();
            ctx.write(new ScsiCommand(false, true, read, false, ScsiCommand.ATTR_SIMPLE, t.lunField, t.itt,
                    t.task.dataInLength(), cmdSN, expStatSN, cdb, null), ctx.voidPromise());
            return;
        }
        int total = w.readableBytes();
        int maxSend = params.maxSendDataSegmentLength();
        int immediate = DataOutBurst.immediateLength(total, params.immediateData(), params.firstBurstLength(),
                maxSend);
        DataOutBurst unsolicited = DataOutBurst.unsolicited(w, t.lunField, t.itt, immediate, params.initialR2T(),
                params.firstBurstLength(), maxSend);
        ByteBuf immediateData = immediate > 0 ? w.retainedSlice(w.readerIndex(), immediate) : null;
        ctx.write(new ScsiCommand(false, !unsolicited.hasNext(), false, true, ScsiCommand.ATTR_SIMPLE, t.lunField,
                t.itt, total, cmdSN, expStatSN, cdb, immediateData), ctx.voidPromise());
        while (unsolicited.hasNext()) {
            ctx.write(unsolicited.next(expStatSN), ctx.voidPromise());
        }
    }

    private void drainWaiting() {
        while (!waiting.isEmpty() && window.isOpen()) {
            send(waiting.poll());
            flushPending = true;
        }
    }

    // ---- receiving ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof IscsiPdu)) {
            ctx.fireChannelRead(msg);
            return;
        }
        IscsiPdu pdu = (IscsiPdu) msg;
        try {
            keepalive.received(System.nanoTime());
            dispatch(pdu);
        } catch (IscsiProtocolException e) {
            failConnection("protocol violation: " + e.getMessage());
        } finally {
            pdu.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    private void dispatch(IscsiPdu pdu) {
        switch (pdu.opcode()) {
            case Opcodes.DATA_IN:
                onDataIn((DataIn) pdu);
                break;
            case Opcodes.SCSI_RESPONSE:
                onResponse((ScsiResponse) pdu);
                break;
            case Opcodes.R2T:
                onR2T((ReadyToTransfer) pdu);
                break;
            case Opcodes.NOP_IN:
                onNopIn((NopIn) pdu);
                break;
            case Opcodes.TASK_MANAGEMENT_RESPONSE: {
                TaskManagementResponse r = (TaskManagementResponse) pdu;
                status(r.statSN(), r.expCmdSN(), r.maxCmdSN());
                if (!escalation.onResponse(r)) {
                    LOG.debug("{}: unexpected {}", display, r);
                }
                break;
            }
            case Opcodes.TEXT_RESPONSE:
                onText((TextResponse) pdu);
                break;
            case Opcodes.LOGOUT_RESPONSE:
                onLogout((LogoutResponse) pdu);
                break;
            case Opcodes.ASYNC_MESSAGE:
                onAsync((AsyncMessage) pdu);
                break;
            case Opcodes.REJECT:
                onReject((Reject) pdu);
                break;
            default:
                throw new IscsiProtocolException(Opcodes.name(pdu.opcode()) + " in full feature phase");
        }
    }

    /** StatSN counts responses: every PDU that carries a status acknowledges up to its own number. */
    private void status(int statSN, int expCmdSN, int maxCmdSN) {
        if (SerialNumbers.greaterOrEqual(statSN, expStatSN)) {
            expStatSN = statSN + 1;
        }
        window(expCmdSN, maxCmdSN);
    }

    private void window(int expCmdSN, int maxCmdSN) {
        if (window.update(expCmdSN, maxCmdSN)) {
            drainWaiting();
        }
    }

    private void onDataIn(DataIn d) {
        if (d.hasStatus()) {
            status(d.statSN(), d.expCmdSN(), d.maxCmdSN());
        } else {
            window(d.expCmdSN(), d.maxCmdSN());
        }
        ActiveTask t = tasks.get(d.itt());
        if (t == null) {
            return; // a task already given up (aborted, rejected)
        }
        if (!t.isRead()) {
            throw new IscsiProtocolException("Data-In for " + t.describe() + ", which reads nothing");
        }
        boolean done = t.dataIn().accept(d);
        t.assembly().add(d.data(), ctx.alloc());
        if (done) {
            tasks.remove(t.itt);
            t.complete(d.status(), null, d.residualCount(), d.residualUnderflow(), d.residualOverflow());
        }
    }

    private void onResponse(ScsiResponse r) {
        status(r.statSN(), r.expCmdSN(), r.maxCmdSN());
        ActiveTask t = tasks.get(r.itt());
        if (t == null) {
            return;
        }
        if (!t.isWrite()) {
            t.dataIn().complete(r);
        }
        tasks.remove(t.itt);
        if (r.response() != ScsiResponse.COMMAND_COMPLETED) {
            t.fail(TaskFailure.Kind.ABORTED, "target failure (iSCSI response 0x" + Integer.toHexString(r.response())
                    + ")");
            return;
        }
        ByteBuf sense = r.senseData();
        byte[] senseBytes = sense.isReadable() ? ByteBufUtil.getBytes(sense) : null;
        t.complete(r.status(), senseBytes, r.residualCount(), r.residualUnderflow(), r.residualOverflow());
    }

    private void onR2T(ReadyToTransfer r2t) {
        window(r2t.expCmdSN(), r2t.maxCmdSN()); // an R2T's StatSN is the next one, not its own
        ActiveTask t = tasks.get(r2t.itt());
        if (t == null) {
            return;
        }
        if (!t.isWrite()) {
            throw new IscsiProtocolException("R2T for " + t.describe() + ", which writes nothing");
        }
        DataOutBurst burst = DataOutBurst.solicited(t.writeData(), r2t, t.lunField,
                params.maxSendDataSegmentLength(), params.maxBurstLength());
        while (burst.hasNext()) {
            ctx.write(burst.next(expStatSN), ctx.voidPromise());
        }
        flushPending = true;
    }

    private void onNopIn(NopIn n) {
        if (n.needsAnswer()) {
            window(n.expCmdSN(), n.maxCmdSN());
            ctx.write(new NopOut(true, n.lun(), Opcodes.RESERVED_TAG, n.ttt(), window.peek(), expStatSN, null),
                    ctx.voidPromise());
            flushPending = true;
            return;
        }
        status(n.statSN(), n.expCmdSN(), n.maxCmdSN());
        keepalive.answered(n.itt());
    }

    private void onAsync(AsyncMessage m) {
        status(m.statSN(), m.expCmdSN(), m.maxCmdSN());
        switch (m.event()) {
            case AsyncMessage.SCSI_EVENT: {
                ByteBuf d = m.data();
                if (d.readableBytes() < 2) {
                    return;
                }
                int length = Math.min(d.getUnsignedShort(d.readerIndex()), d.readableBytes() - 2);
                byte[] sense = ByteBufUtil.getBytes(d, d.readerIndex() + 2, length);
                LOG.debug("{}: SCSI asynchronous event with {} bytes of sense", display, length);
                Consumer<byte[]> listener = unitAttentionListener;
                if (listener != null) {
                    try {
                        listener.accept(sense);
                    } catch (RuntimeException e) {
                        LOG.error("{}: unit attention listener failed", display, e);
                    }
                }
                return;
            }
            case AsyncMessage.LOGOUT_REQUESTED:
                targetWantsLogout(m.parameter1());
                return;
            case AsyncMessage.CONNECTION_DROPPED:
                failConnection("the target is dropping the connection (asynchronous event 2)");
                return;
            case AsyncMessage.SESSION_DROPPED:
                failConnection("the target is dropping the session (asynchronous event 3)");
                return;
            case AsyncMessage.NEGOTIATION_REQUESTED:
                failConnection("the target asks for parameter renegotiation (asynchronous event 4), "
                        + "which this initiator does not do");
                return;
            default:
                LOG.debug("{}: ignored asynchronous event {}", display, m.event());
        }
    }

    /** Asynchronous event 1: no new tasks; log out once the tasks in flight are done, at the latest in time. */
    private void targetWantsLogout(int seconds) {
        if (logoutResult != null) {
            return;
        }
        LOG.warn("{}: the target asks for a logout within {} s", display, seconds);
        if (lossReason == null) {
            lossReason = "the target requested a logout";
        }
        refuse("connection lost: " + lossReason);
        for (ActiveTask t : new ArrayList<>(waiting)) {
            waiting.remove(t);
            tasks.remove(t.itt);
            t.fail(TaskFailure.Kind.CONNECTION_LOST, refusal);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(0, seconds - 1));
        drainThenLogout(deadline);
    }

    private void drainThenLogout(long deadline) {
        if (!ctx.channel().isActive() || logoutResult != null) {
            return;
        }
        if (tasks.isEmpty() || System.nanoTime() - deadline >= 0) {
            logout();
            return;
        }
        ctx.executor().schedule(() -> drainThenLogout(deadline), 50, TimeUnit.MILLISECONDS);
    }

    private void onReject(Reject r) {
        status(r.statSN(), r.expCmdSN(), r.maxCmdSN());
        int opcode = r.rejectedOpcode();
        int itt = r.rejectedItt();
        String why = "the target rejected the " + Opcodes.name(opcode) + " (reason 0x" + Integer.toHexString(
                r.reason()) + ")";
        if (opcode == Opcodes.SCSI_COMMAND || opcode == Opcodes.DATA_OUT) {
            ActiveTask t = tasks.remove(itt);
            if (t != null) {
                waiting.remove(t);
                t.fail(TaskFailure.Kind.REJECTED, why);
            }
            return;
        }
        if (opcode == Opcodes.TASK_MANAGEMENT_REQUEST && escalation.onReject(itt)) {
            return;
        }
        if (opcode == Opcodes.TEXT_REQUEST && text != null && text.itt == itt) {
            text.fail(new IOException(display + ": " + why));
            text = null;
            return;
        }
        if (opcode == Opcodes.LOGOUT_REQUEST && itt == logoutItt) {
            failConnection(why);
            return;
        }
        LOG.warn("{}: {}", display, why);
    }

    // ---- periodic work: task deadlines and keepalive ----

    private void onTick() {
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (!tasks.isEmpty()) {
            List<ActiveTask> late = null;
            for (ActiveTask t : tasks.snapshot()) {
                if (!t.timedOut() && now - t.deadlineNanos >= 0) {
                    if (late == null) {
                        late = new ArrayList<>();
                    }
                    late.add(t);
                }
            }
            if (late != null) {
                for (ActiveTask t : late) {
                    if (!t.isSent()) {
                        waiting.remove(t);
                        tasks.remove(t.itt);
                        t.fail(TaskFailure.Kind.TIMEOUT, "not sent within " + config.taskTimeout().toMillis()
                                + " ms: the target's command window stayed closed");
                    } else {
                        escalation.timedOut(t);
                    }
                }
            }
        }
        switch (keepalive.check(now)) {
            case PING: {
                int itt = tasks.newTag();
                keepalive.pingSent(itt, now);
                ctx.writeAndFlush(new NopOut(true, 0, itt, Opcodes.RESERVED_TAG, window.peek(), expStatSN, null),
                        ctx.voidPromise());
                break;
            }
            case DEAD:
                failConnection("no answer to NOP-Out within " + TimeUnit.NANOSECONDS.toMillis(
                        keepalive.timeoutNanos()) + " ms");
                break;
            default:
                break;
        }
    }

    // ---- text and logout ----

    CompletableFuture<TextKeys> text(TextKeys request) {
        if (refusing) {
            return CompletableFuture.failedFuture(new IOException(display + ": " + refusal));
        }
        if (text != null) {
            return CompletableFuture.failedFuture(new IllegalStateException("a text exchange is running"));
        }
        if (!window.isOpen()) {
            return CompletableFuture.failedFuture(new IOException(display + ": the command window is closed"));
        }
        TextExchange ex = new TextExchange(tasks.newTag());
        text = ex;
        ScheduledFuture<?> timer = ctx.executor().schedule(() -> {
            if (text == ex) {
                failConnection("no Text Response within " + config.loginTimeout().toMillis() + " ms");
            }
        }, config.loginTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ex.result.whenComplete((k, e) -> timer.cancel(false));
        ctx.writeAndFlush(new TextRequest(false, true, false, 0, ex.itt, Opcodes.RESERVED_TAG, window.take(),
                expStatSN, request.encode(ctx.alloc())), ctx.voidPromise());
        return ex.result;
    }

    private void onText(TextResponse r) {
        status(r.statSN(), r.expCmdSN(), r.maxCmdSN());
        TextExchange ex = text;
        if (ex == null || r.itt() != ex.itt) {
            LOG.debug("{}: unexpected {}", display, r);
            return;
        }
        if (ex.accept(r)) {
            text = null;
            return;
        }
        if (r.ttt() == Opcodes.RESERVED_TAG) {
            throw new IscsiProtocolException("Text Response with more to come but no target transfer tag");
        }
        // ask for the rest with an empty request carrying the target's tag
        ctx.write(new TextRequest(false, true, false, 0, ex.itt, r.ttt(), window.take(), expStatSN, null),
                ctx.voidPromise());
        flushPending = true;
    }

    /** Orderly logout (close the session), then close; bounded by the login timeout. */
    CompletableFuture<Void> logout() {
        if (logoutResult != null) {
            return logoutResult;
        }
        logoutResult = new CompletableFuture<>();
        if (!ctx.channel().isActive()) {
            logoutResult.complete(null);
            return logoutResult;
        }
        refuse("connection closed by logout");
        logoutItt = tasks.newTag();
        Duration limit = config.loginTimeout();
        logoutTimer = ctx.executor().schedule(() -> failConnection("no Logout Response within "
                + limit.toMillis() + " ms"), limit.toNanos(), TimeUnit.NANOSECONDS);
        ctx.writeAndFlush(new LogoutRequest(true, LogoutRequest.CLOSE_SESSION, logoutItt, 0, window.peek(),
                expStatSN), ctx.voidPromise());
        return logoutResult;
    }

    private void onLogout(LogoutResponse r) {
        status(r.statSN(), r.expCmdSN(), r.maxCmdSN());
        if (r.itt() != logoutItt) {
            throw new IscsiProtocolException("Logout Response for ITT 0x" + Integer.toHexString(r.itt()));
        }
        if (r.response() != LogoutResponse.CLOSED_SUCCESSFULLY) {
            LOG.warn("{}: logout answered with response {}", display, r.response());
        }
        if (lossReason == null) {
            orderly = true;
        }
        ctx.close();
    }

    // ---- AbortEscalation.Session ----

    @Override
    public int newTag() {
        return tasks.newTag();
    }

    @Override
    public void sendImmediate(TaskManagementRequest request) {
        ctx.writeAndFlush(request, ctx.voidPromise());
    }

    @Override
    public int expStatSN() {
        return expStatSN;
    }

    @Override
    public int nextCmdSN() {
        return window.peek();
    }

    @Override
    public void finish(ActiveTask task, TaskFailure.Kind kind, String message) {
        if (tasks.get(task.itt) == task) {
            tasks.remove(task.itt);
        }
        task.fail(kind, message);
    }

    @Override
    public List<ActiveTask> sentTasks(long lunField) {
        List<ActiveTask> out = new ArrayList<>();
        for (ActiveTask t : tasks.snapshot()) {
            if (t.isSent() && t.lunField == lunField) {
                out.add(t);
            }
        }
        return out;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable r, long nanos) {
        return ctx.executor().schedule(r, nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public String display() {
        return display;
    }
}
