package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_NO_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.FLAG_FIXED_NEWSTYLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.FLAG_NO_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_DESCRIPTION;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_ABORT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXPORT_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXTENDED_HEADERS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_GO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_INFO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_LIST;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_LIST_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_SET_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STARTTLS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STRUCTURED_REPLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ACK;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_EXT_HEADER_REQD;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_INVALID;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_POLICY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_SHUTDOWN;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_TLS_REQD;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_TOO_BIG;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_UNKNOWN;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_UNSUP;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_INFO;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_SERVER;

import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.time.Durations;
import io.mpathnbd.nbd.protocol.NbdClientFlags;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdExportNameReply;
import io.mpathnbd.nbd.protocol.NbdOption;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads.ExportRequest;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads.MetaContextRequest;
import io.mpathnbd.nbd.protocol.NbdOptionReply;
import io.mpathnbd.nbd.protocol.NbdProtocolException;
import io.mpathnbd.nbd.protocol.NbdReplyEncoder;
import io.mpathnbd.nbd.protocol.NbdRequestDecoder;
import io.mpathnbd.nbd.protocol.NbdServerGreeting;
import io.mpathnbd.server.access.ClientIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed-newstyle handshake of one connection: greeting, client flags, then options until GO or EXPORT_NAME
 * hands the connection to a {@link TransmissionHandler} (or ABORT, a limit or a violation ends it). Option errors
 * carry a short message for the human at the client.
 *
 * <p>GO, INFO or EXPORT_NAME for an export that exists but has no usable path yet (the gateway has just started, or
 * every backend is down) is not refused at once: the answer waits up to {@code attach-wait} for the export to become
 * ready, with this connection's reading paused and nothing else delayed, and only then is the client refused. The
 * handshake timeout does not run meanwhile. Options the client sent behind the waiting one are kept and answered in
 * order afterwards.
 *
 * <p>EXTENDED_HEADERS (the spec's extension-ext-header branch) implies structured replies; after it the client may
 * not use EXPORT_NAME (one that does is disconnected, since EXPORT_NAME cannot be answered with an error) nor
 * downgrade with STRUCTURED_REPLY (ERR_EXT_HEADER_REQD). STARTTLS forgets it like every other negotiated state.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);
    private static final int KNOWN_CLIENT_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    private final ClientConnection conn;
    private final AccessGate access;
    private final FrontendLimits limits;
    private final FrontendTls tls;
    /** STARTTLS was acknowledged and the TLS handshake has not ended yet. */
    private boolean tlsStarting;
    /** The connection speaks TLS: STARTTLS was acknowledged and the TLS handshake succeeded. */
    private boolean tlsEstablished;
    /** Whom the access lists see; TLS replaces it with one that carries the verified certificate subject. */
    private ClientIdentity client;
    private ScheduledFuture<?> timeout;
    private boolean noZeroes;
    private boolean structuredReplies;
    private boolean extendedHeaders;
    private Export metaContextExport;
    private int metaContextId;
    private int zoneContextId;
    private int writePointerContextId;
    private int nextMetaContextId = 1;
    private int options;
    private boolean finished;
    /** Gives up the wait of the option waiting for its export; null while none waits. */
    private Runnable cancelWait;
    private ScheduledFuture<?> waitTimer;
    /** Messages that arrived behind the waiting option, in order; this handler owns their references. */
    private final ArrayDeque<Object> pending = new ArrayDeque<>();

    HandshakeHandler(ClientConnection conn, AccessGate access, FrontendLimits limits, FrontendTls tls) {
        this.conn = conn;
        this.access = access;
        this.limits = limits;
        this.tls = tls;
        this.client = ClientIdentity.of(conn.channel().remoteAddress());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        LOG.debug("{}: connection opened", conn.remote());
        ctx.writeAndFlush(new NbdServerGreeting(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
        startTimeout(ctx);
        ctx.fireChannelActive();
    }

    private void startTimeout(ChannelHandlerContext ctx) {
        long nanos = limits.handshakeTimeout().toNanos();
        if (nanos > 0) {
            timeout = ctx.executor().schedule(this::timedOut, nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimeout();
        stopWaiting();
        releasePending();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopWaiting();
        releasePending();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (cancelWait != null && !finished) {
            pending.add(msg);
            return;
        }
        handle(ctx, msg);
    }

    private void handle(ChannelHandlerContext ctx, Object msg) {
        try {
            if (finished) {
                return;
            }
            if (msg instanceof NbdClientFlags) {
                clientFlags(((NbdClientFlags) msg).flags());
            } else if (msg instanceof NbdOption) {
                option(ctx, (NbdOption) msg);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    // ---------------------------------------------------------------- waiting for an export

    /**
     * Answers once {@code export} is ready ({@code answer}), or after {@code attach-wait} without it ({@code refuse}).
     * The connection reads nothing meanwhile.
     */
    private void awaitExport(ChannelHandlerContext ctx, Export export, String what, Runnable answer,
            Runnable refuse) {
        long waitNanos = limits.attachWait().toNanos();
        if (waitNanos <= 0) {
            refuse.run();
            return;
        }
        cancelTimeout();
        conn.pauseReading(ClientConnection.PAUSE_WAITING, true);
        LOG.info("{}: {} for export '{}', which has no usable path yet: waiting up to {} for one", conn.remote(), what,
                export.name(), Durations.format(waitNanos));
        EventExecutor loop = ctx.executor();
        long start = System.nanoTime();
        waitTimer = loop.schedule(() -> endWait(ctx, () -> {
            LOG.info("{}: {} for export '{}' refused: no path became usable within {}", conn.remote(), what,
                    export.name(), Durations.format(waitNanos));
            refuse.run();
        }), waitNanos, TimeUnit.NANOSECONDS);
        cancelWait = export.onReady(() -> {
            try {
                loop.execute(() -> endWait(ctx, () -> {
                    LOG.debug("{}: export '{}' ready after {}", conn.remote(), export.name(),
                            Durations.format(System.nanoTime() - start));
                    answer.run();
                }));
            } catch (RejectedExecutionException e) {
                // the loop is shutting down, and this connection with it
            }
        });
    }

    /** The wait is over: {@code next} answers the waiting option, then the options behind it are handled. */
    private void endWait(ChannelHandlerContext ctx, Runnable next) {
        if (cancelWait == null || !ctx.channel().isActive()) {
            return;
        }
        stopWaiting();
        conn.pauseReading(ClientConnection.PAUSE_WAITING, false);
        if (!finished) {
            startTimeout(ctx);
        }
        next.run();
        while (!pending.isEmpty() && cancelWait == null && !finished) {
            handle(ctx, pending.poll());
        }
        if (finished) {
            releasePending();
        }
    }

    private void stopWaiting() {
        if (cancelWait != null) {
            cancelWait.run();
            cancelWait = null;
        }
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
    }

    private void releasePending() {
        Object msg;
        while ((msg = pending.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    private String noPathMessage(Export export) {
        return "export '" + export.name() + "' exists but has no usable path"
                + (limits.attachWait().isZero() ? "" : " (waited " + Durations.format(limits.attachWait().toNanos())
                + " for one to connect)");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (tlsStarting) {
            tlsFailed(ctx, cause);
            return;
        }
        finished = true;
        conn.failed(cause);
    }

    // ---------------------------------------------------------------- TLS

    private void startTls(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, OPT_STARTTLS, REP_ERR_INVALID, "STARTTLS takes no data");
        } else if (tls.mode() == FrontendTls.Mode.OFF) {
            error(ctx, OPT_STARTTLS, REP_ERR_POLICY, "TLS is not configured on this server");
        } else if (tlsEstablished) {
            error(ctx, OPT_STARTTLS, REP_ERR_INVALID, "TLS is already negotiated");
        } else if (TlsUpgrade.pipelinedAfterStartTls(ctx) || !pending.isEmpty()) {
            finished = true;
            conn.protocolError("data-after-starttls", "data sent after STARTTLS before the server's answer");
        } else {
            ack(ctx, OPT_STARTTLS);
            // the acknowledgement goes out in clear now: the flush consolidation above would hold it until this
            // read completes, and a TLS handler may not pass that on until its own handshake is done
            ctx.pipeline().firstContext().flush();
            TlsUpgrade.begin(ctx, tls);
            tlsStarting = true;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && tlsStarting) {
            if (done.isSuccess()) {
                tlsStarted(ctx);
            } else {
                tlsFailed(ctx, done.cause());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The spec: after STARTTLS everything negotiated before it is forgotten. */
    private void tlsStarted(ChannelHandlerContext ctx) {
        tlsStarting = false;
        tlsEstablished = true;
        structuredReplies = false;
        extendedHeaders = false;
        clearMetaContext();
        TlsUpgrade.verifiedSubject(ctx).ifPresent(subject -> client = client.withSubject(subject));
        conn.observer().tlsHandshake(true);
        LOG.debug("{}: TLS started ({}), client {}", conn.remote(), TlsUpgrade.describe(ctx), client.describe());
    }

    private void tlsFailed(ChannelHandlerContext ctx, Throwable cause) {
        if (!tlsStarting) {
            return;
        }
        tlsStarting = false;
        finished = true;
        conn.observer().tlsHandshake(false);
        TlsUpgrade.failed(conn.remote(), cause);
        ctx.close();
    }

    /**
     * Why TLS keeps this client from {@code export} for now, or null: a TLS-only export before STARTTLS, or one that
     * wants a verified client certificate the client did not present.
     */
    private String tlsDemand(Export export) {
        if (!tlsEstablished && access.tlsRequired(export)) {
            return "export '" + export.name() + "' requires TLS: send NBD_OPT_STARTTLS first";
        }
        if (tlsEstablished && client.subject().isEmpty() && access.certificateRequired(export)) {
            return "export '" + export.name() + "' requires a client certificate that the server's CA verifies";
        }
        return null;
    }

    /** TLS_REQD before TLS, POLICY after it (the spec forbids TLS_REQD once TLS is on). */
    private void refuseForTls(ChannelHandlerContext ctx, int option, String why) {
        error(ctx, option, tlsEstablished ? REP_ERR_POLICY : REP_ERR_TLS_REQD, why);
    }

    private void timedOut() {
        if (!finished) {
            finished = true;
            conn.protocolError("handshake-timeout", "no export chosen within " + limits.handshakeTimeout());
        }
    }

    private void clientFlags(int flags) {
        if ((flags & ~KNOWN_CLIENT_FLAGS) != 0) {
            finished = true;
            conn.protocolError("unknown-client-flags", "unknown client flags 0x" + Integer.toHexString(flags));
            return;
        }
        noZeroes = (flags & CLIENT_FLAG_NO_ZEROES) != 0;
    }

    private void option(ChannelHandlerContext ctx, NbdOption o) {
        int option = o.option();
        if (++options > limits.maxOptions()) {
            finished = true;
            conn.protocolError("too-many-options", "more than " + limits.maxOptions() + " options");
            return;
        }
        LOG.debug("{}: option {}", conn.remote(), o);
        if (o.isTooBig()) {
            tooBig(ctx, o);
            return;
        }
        if (conn.shuttingDown() && option != OPT_ABORT && option != OPT_EXPORT_NAME) {
            error(ctx, option, REP_ERR_SHUTDOWN, "server is shutting down");
            return;
        }
        if (tls.mode() == FrontendTls.Mode.REQUIRED && !tlsEstablished && option != OPT_STARTTLS
                && option != OPT_ABORT) {
            if (option == OPT_EXPORT_NAME) {
                finished = true;
                conn.protocolError("tls-required", "EXPORT_NAME before STARTTLS, and TLS is required");
            } else {
                error(ctx, option, REP_ERR_TLS_REQD, "TLS is required: send NBD_OPT_STARTTLS first");
            }
            return;
        }
        switch (option) {
            case OPT_EXPORT_NAME:
                exportName(ctx, o.data());
                break;
            case OPT_ABORT:
                abort(ctx);
                break;
            case OPT_LIST:
                list(ctx, o.data());
                break;
            case OPT_STARTTLS:
                startTls(ctx, o.data());
                break;
            case OPT_INFO:
            case OPT_GO:
                infoOrGo(ctx, option, o.data());
                break;
            case OPT_STRUCTURED_REPLY:
                structuredReply(ctx, o.data());
                break;
            case OPT_EXTENDED_HEADERS:
                extendedHeaders(ctx, o.data());
                break;
            case OPT_LIST_META_CONTEXT:
                listMetaContext(ctx, o.data());
                break;
            case OPT_SET_META_CONTEXT:
                setMetaContext(ctx, o.data());
                break;
            default:
                error(ctx, option, REP_ERR_UNSUP, "option " + NbdConstants.optionName(option) + " is not supported");
                break;
        }
    }

    private void tooBig(ChannelHandlerContext ctx, NbdOption o) {
        int option = o.option();
        switch (option) {
            case OPT_EXPORT_NAME:
                // EXPORT_NAME cannot be answered with an error
                finished = true;
                conn.protocolError("option-too-big", "EXPORT_NAME of " + o.declaredLength() + " bytes");
                break;
            case OPT_ABORT:
                abort(ctx);
                break;
            default:
                if (option == OPT_SET_META_CONTEXT) {
                    clearMetaContext();
                }
                error(ctx, option, REP_ERR_TOO_BIG, "option data of " + o.declaredLength()
                        + " bytes exceeds the limit of " + limits.maxOptionLength() + " bytes");
                break;
        }
    }

    private void exportName(ChannelHandlerContext ctx, ByteBuf data) {
        finished = true;
        if (extendedHeaders) {
            // the spec: a client that negotiated extended headers MUST NOT use EXPORT_NAME, which has no error reply
            conn.protocolError("export-name-after-extended-headers",
                    "EXPORT_NAME after EXTENDED_HEADERS; such a client must use GO");
            return;
        }
        String name;
        try {
            name = NbdOptionPayloads.parseExportName(data);
        } catch (NbdProtocolException e) {
            conn.protocolError("bad-export-name", "EXPORT_NAME: " + e.getMessage());
            return;
        }
        Export export = access.find(name, client, "EXPORT_NAME", conn.remote());
        if (export == null) {
            conn.protocolError("unknown-export", "EXPORT_NAME for unknown export '" + name + "'");
            return;
        }
        String tlsDemand = tlsDemand(export);
        if (tlsDemand != null) {
            // EXPORT_NAME cannot be answered with an error: the spec says to end the session
            conn.protocolError("tls-required", "EXPORT_NAME: " + tlsDemand);
            return;
        }
        if (!export.ready()) {
            awaitExport(ctx, export, "EXPORT_NAME", () -> exportNameReady(ctx, export),
                    () -> conn.protocolError("export-not-ready", "EXPORT_NAME: " + noPathMessage(export)));
            return;
        }
        exportNameReady(ctx, export);
    }

    private void exportNameReady(ChannelHandlerContext ctx, Export export) {
        if (conn.shuttingDown()) {
            conn.protocolError("shutdown", "EXPORT_NAME while the server is shutting down");
            return;
        }
        ExportSession session = session(export);
        ctx.writeAndFlush(new NbdExportNameReply(session.size(), session.transmissionFlags(), noZeroes));
        enterTransmission(ctx, session, "EXPORT_NAME");
    }

    private void abort(ChannelHandlerContext ctx) {
        finished = true;
        cancelTimeout();
        conn.pauseReading(ClientConnection.PAUSE_STOPPED, true);
        LOG.debug("{}: client aborted the handshake", conn.remote());
        // the client may close before reading the ACK: the close happens whether the write succeeds or not
        ctx.writeAndFlush(new NbdOptionReply(OPT_ABORT, REP_ACK, null)).addListener(ChannelFutureListener.CLOSE);
    }

    private void list(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, OPT_LIST, REP_ERR_INVALID, "LIST takes no data");
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        for (Export export : access.listed(client)) {
            if (!tlsEstablished && access.tlsRequired(export)) {
                continue; // the spec lets SELECTIVETLS servers leave TLS-only exports out before TLS
            }
            ctx.write(new NbdOptionReply(OPT_LIST, REP_SERVER,
                    NbdOptionPayloads.server(alloc, export.name(), displayable(export.description()))));
        }
        ack(ctx, OPT_LIST);
    }

    private void infoOrGo(ChannelHandlerContext ctx, int option, ByteBuf data) {
        ExportRequest request;
        try {
            request = NbdOptionPayloads.parseInfoOrGo(data);
        } catch (NbdProtocolException e) {
            error(ctx, option, REP_ERR_INVALID, e.getMessage());
            return;
        }
        Export export = access.find(request.name(), client, NbdConstants.optionName(option), conn.remote());
        if (export == null) {
            error(ctx, option, REP_ERR_UNKNOWN, "unknown export '" + request.name() + "'");
            return;
        }
        String tlsDemand = tlsDemand(export);
        if (tlsDemand != null) {
            refuseForTls(ctx, option, tlsDemand);
            return;
        }
        if (!export.ready()) {
            // the export exists but cannot serve I/O yet: "not available" is what ERR_UNKNOWN means
            awaitExport(ctx, export, NbdConstants.optionName(option), () -> infoOrGoReady(ctx, option, request, export),
                    () -> error(ctx, option, REP_ERR_UNKNOWN, noPathMessage(export)));
            return;
        }
        infoOrGoReady(ctx, option, request, export);
    }

    private void infoOrGoReady(ChannelHandlerContext ctx, int option, ExportRequest request, Export export) {
        if (conn.shuttingDown()) {
            error(ctx, option, REP_ERR_SHUTDOWN, "server is shutting down");
            return;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int info : request.infoRequests()) {
            wantName |= info == INFO_NAME;
            wantDescription |= info == INFO_DESCRIPTION;
        }
        ExportSession session = session(export);
        ByteBufAllocator alloc = ctx.alloc();
        info(ctx, option, NbdOptionPayloads.infoExport(alloc, session.size(), session.transmissionFlags()));
        if (wantName) {
            info(ctx, option, NbdOptionPayloads.infoName(alloc, export.name()));
        }
        String description = displayable(export.description());
        if (wantDescription && description != null) {
            info(ctx, option, NbdOptionPayloads.infoDescription(alloc, description));
        }
        // sent whether asked or not: the maximum (and possibly the minimum) differ from the protocol's defaults, and
        // clients ignore information they did not ask for. Clients that did not ask are still served (misaligned
        // requests get EINVAL) rather than refused with ERR_BLOCK_SIZE_REQD, which the Linux client cannot handle.
        BlockSizes sizes = session.blockSizes();
        info(ctx, option, NbdOptionPayloads.infoBlockSize(alloc, sizes.minimum(), sizes.preferred(), sizes.maximum()));
        ack(ctx, option);
        if (option == OPT_GO) {
            finished = true;
            enterTransmission(ctx, session, "GO");
        }
    }

    private void structuredReply(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
        } else if (extendedHeaders) {
            error(ctx, OPT_STRUCTURED_REPLY, REP_ERR_EXT_HEADER_REQD,
                    "extended headers are negotiated and take precedence over structured replies");
        } else if (structuredReplies) {
            error(ctx, OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "structured replies are already negotiated");
        } else {
            structuredReplies = true;
            ack(ctx, OPT_STRUCTURED_REPLY);
        }
    }

    private void extendedHeaders(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, OPT_EXTENDED_HEADERS, REP_ERR_INVALID, "EXTENDED_HEADERS takes no data");
        } else if (extendedHeaders) {
            error(ctx, OPT_EXTENDED_HEADERS, REP_ERR_INVALID, "extended headers are already negotiated");
        } else {
            extendedHeaders = true;
            ack(ctx, OPT_EXTENDED_HEADERS);
        }
    }

    private void listMetaContext(ChannelHandlerContext ctx, ByteBuf data) {
        MetaContextRequest request;
        try {
            request = NbdOptionPayloads.parseMetaContext(data);
        } catch (NbdProtocolException e) {
            error(ctx, OPT_LIST_META_CONTEXT, REP_ERR_INVALID, e.getMessage());
            return;
        }
        Export listed = access.find(request.exportName(), client, "LIST_META_CONTEXT", conn.remote());
        if (listed == null) {
            error(ctx, OPT_LIST_META_CONTEXT, REP_ERR_UNKNOWN, "unknown export '" + request.exportName() + "'");
            return;
        }
        String tlsDemand = tlsDemand(listed);
        if (tlsDemand != null) {
            refuseForTls(ctx, OPT_LIST_META_CONTEXT, tlsDemand);
            return;
        }
        for (String name : MetaContexts.listed(request.queries(), listed.zones() != null)) {
            // ids in a LIST answer are reserved: zero
            ctx.write(new NbdOptionReply(OPT_LIST_META_CONTEXT, REP_META_CONTEXT,
                    NbdOptionPayloads.metaContext(ctx.alloc(), 0, name)));
        }
        ack(ctx, OPT_LIST_META_CONTEXT);
    }

    private void setMetaContext(ChannelHandlerContext ctx, ByteBuf data) {
        // the spec: the previous selection is replaced even if this request fails
        clearMetaContext();
        if (!structuredReplies && !extendedHeaders) {
            error(ctx, OPT_SET_META_CONTEXT, REP_ERR_INVALID,
                    "SET_META_CONTEXT needs structured replies or extended headers first");
            return;
        }
        MetaContextRequest request;
        try {
            request = NbdOptionPayloads.parseMetaContext(data);
        } catch (NbdProtocolException e) {
            error(ctx, OPT_SET_META_CONTEXT, REP_ERR_INVALID, e.getMessage());
            return;
        }
        Export export = access.find(request.exportName(), client, "SET_META_CONTEXT", conn.remote());
        if (export == null) {
            error(ctx, OPT_SET_META_CONTEXT, REP_ERR_UNKNOWN, "unknown export '" + request.exportName() + "'");
            return;
        }
        String tlsDemand = tlsDemand(export);
        if (tlsDemand != null) {
            refuseForTls(ctx, OPT_SET_META_CONTEXT, tlsDemand);
            return;
        }
        for (String name : MetaContexts.selected(request.queries(), export.zones() != null)) {
            metaContextExport = export;
            int id = nextMetaContextId++;
            if (name.equals(MetaContexts.BASE_ALLOCATION)) {
                metaContextId = id;
            } else if (name.equals(MetaContexts.ZONE_TYPE_CONDITION)) {
                zoneContextId = id;
            } else {
                writePointerContextId = id;
            }
            ctx.write(new NbdOptionReply(OPT_SET_META_CONTEXT, REP_META_CONTEXT,
                    NbdOptionPayloads.metaContext(ctx.alloc(), id, name)));
        }
        ack(ctx, OPT_SET_META_CONTEXT);
    }

    private void clearMetaContext() {
        metaContextExport = null;
        metaContextId = 0;
        zoneContextId = 0;
        writePointerContextId = 0;
    }

    /** Fixes what this connection gets from {@code export}; GO after INFO with nothing between gives the same. */
    private ExportSession session(Export export) {
        int capabilities = export.capabilities();
        boolean structured = structuredReplies || extendedHeaders;
        int flags = TransmissionFlags.advertised(capabilities, structured, access.readOnly(export, client));
        BlockSizes sizes = BlockSizes.of(export.minBlockSize(), export.preferredBlockSize(), export.maxPayload(),
                limits.maxPayload());
        // block status needs SET_META_CONTEXT for this same export (names resolve to exports, so "" and the
        // default's own name count as the same)
        boolean selected = structured && metaContextExport == export;
        boolean zoned = selected && export.zones() != null;
        return new ExportSession(export, export.name(), export.size(), flags, structured,
                selected ? metaContextId : 0, Capability.has(capabilities, Capability.BLOCK_STATUS), sizes,
                extendedHeaders, zoned ? zoneContextId : 0, zoned ? writePointerContextId : 0);
    }

    /**
     * Swaps the handshake codec for the transmission codec. The handshake decoder goes last: removing it hands the
     * bytes it already holds (requests a client sent right behind GO) to the request decoder, so none are lost.
     */
    private void enterTransmission(ChannelHandlerContext ctx, ExportSession session, String how) {
        cancelTimeout();
        if (!pending.isEmpty()) {
            // bytes behind a waiting GO or EXPORT_NAME were decoded as options: the client sent them before it could
            // know the answer, so they cannot be requests it meant for this export
            releasePending();
            conn.protocolError("early-request", "data sent behind " + how + " before its answer");
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        TransmissionHandler transmission = new TransmissionHandler(conn, session, limits.idleTimeout());
        NbdRequestDecoder decoder = new NbdRequestDecoder(session.blockSizes().maximum(), session.extendedHeaders());
        p.addAfter(NbdFrontend.HANDSHAKE_DECODER, NbdFrontend.REQUEST_DECODER, decoder);
        long payloadNanos = limits.payloadTimeout().toNanos();
        if (payloadNanos > 0) {
            p.addBefore(NbdFrontend.REQUEST_DECODER, NbdFrontend.PAYLOAD_DEADLINE,
                    new PayloadDeadline(conn, decoder, payloadNanos));
        }
        p.replace(NbdFrontend.HANDSHAKE_ENCODER, NbdFrontend.REPLY_ENCODER,
                new NbdReplyEncoder(session.extendedHeaders()));
        p.replace(this, NbdFrontend.TRANSMISSION, transmission);
        long idleNanos = limits.idleTimeout().toNanos();
        if (idleNanos > 0) {
            p.addBefore(NbdFrontend.TRANSMISSION, NbdFrontend.IDLE,
                    new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS));
        }
        conn.attached(session.name(), transmission);
        LOG.info("{}: attached to export '{}' via {} (structured replies: {}, extended headers: {}, block status: {},"
                + " flags: {}, size {}, block sizes {}/{}/{})", conn.remote(), session.name(), how,
                session.structuredReplies() ? "yes" : "no", session.extendedHeaders() ? "yes" : "no",
                session.hasMetaContext() ? "yes" : "no",
                TransmissionFlags.describe(session.transmissionFlags()), session.size(),
                session.blockSizes().minimum(), session.blockSizes().preferred(), session.blockSizes().maximum());
        p.remove(NbdFrontend.HANDSHAKE_DECODER);
    }

    private void info(ChannelHandlerContext ctx, int option, ByteBuf data) {
        ctx.write(new NbdOptionReply(option, REP_INFO, data));
    }

    private void ack(ChannelHandlerContext ctx, int option) {
        ctx.writeAndFlush(new NbdOptionReply(option, REP_ACK, null));
    }

    private void error(ChannelHandlerContext ctx, int option, int type, String message) {
        LOG.debug("{}: option {} refused (0x{}): {}", conn.remote(), NbdConstants.optionName(option),
                Integer.toHexString(type), message);
        ctx.writeAndFlush(new NbdOptionReply(option, type, NbdOptionPayloads.errorMessage(ctx.alloc(), message)));
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    /** A description that fits the protocol's string limit, or null when there is none. */
    private static String displayable(String description) {
        if (description == null || description.isEmpty()) {
            return null;
        }
        // a config value: cut rather than fail the option (4096 bytes of UTF-8 fit in 1365 characters)
        return description.length() > 1365 ? description.substring(0, 1365) : description;
    }
}
