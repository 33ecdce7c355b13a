package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.IscsiProtocolException;
import io.mpathnbd.iscsi.pdu.LoginRequest;
import io.mpathnbd.iscsi.pdu.LoginResponse;
import io.mpathnbd.iscsi.pdu.PduSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the login on a connected channel: sends the {@link LoginNegotiator}'s requests, feeds it the responses, and on
 * the final one applies the negotiated digests and segment lengths to the connection's {@link PduSettings} and
 * replaces itself with the full-feature {@link SessionHandler} before the next PDU is decoded. Fails the login
 * future with {@link LoginException} (refused) or IOException (broken connection, protocol violation).
 */
final class LoginHandler extends ChannelInboundHandlerAdapter {
    /** Initial CmdSN; any value works, the target adopts it. */
    static final int INITIAL_CMD_SN = 1;

    private final IscsiSessionConfig config;
    private final PduSettings settings;
    private final LoginNegotiator negotiator;
    private final CompletableFuture<IscsiConnection> result;
    private final String display;

    LoginHandler(IscsiSessionConfig config, PduSettings settings, String display,
            CompletableFuture<IscsiConnection> result) {
        this.config = config;
        this.settings = settings;
        this.display = display;
        this.result = result;
        this.negotiator = new LoginNegotiator(config, INITIAL_CMD_SN);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        send(ctx, negotiator.start(ctx.alloc()));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof LoginResponse)) {
            ReferenceCountUtil.release(msg);
            fail(ctx, new IOException(display + ": login failed: unexpected " + msg + " during login"));
            return;
        }
        LoginResponse response = (LoginResponse) msg;
        try {
            LoginRequest next = negotiator.onResponse(response, ctx.alloc());
            if (next != null) {
                send(ctx, next);
                return;
            }
            finish(ctx, response);
        } catch (LoginException e) {
            fail(ctx, e);
        } catch (IscsiProtocolException e) {
            fail(ctx, new IOException(display + ": login failed: protocol violation: " + e.getMessage(), e));
        } finally {
            response.release();
        }
    }

    private void finish(ChannelHandlerContext ctx, LoginResponse last) {
        NegotiatedParameters p = negotiator.result();
        // exactly here: the final Login Response itself was framed without digests, the next PDU with them
        settings.headerDigest(p.headerDigest()).dataDigest(p.dataDigest())
                .maxRecvDataSegmentLength(p.maxRecvDataSegmentLength())
                .maxSendDataSegmentLength(p.maxSendDataSegmentLength());
        SessionHandler session = new SessionHandler(config, p, display, INITIAL_CMD_SN, last.expCmdSN(),
                last.maxCmdSN(), negotiator.expStatSN());
        ctx.pipeline().replace(this, "iscsi-session", session);
        IscsiConnection connection = new IscsiConnection(config, ctx.channel(), session, p, display);
        IscsiConnection.LOG.info("{}: logged in{}, TSIH {}, ISID 0x{}, portal group {}, header digest {}, data "
                + "digest {}, MaxRecvDataSegmentLength {}/{} (ours/target's), FirstBurstLength {}, MaxBurstLength "
                + "{}, InitialR2T {}, ImmediateData {}", display, p.targetAlias() == null ? ""
                : " (alias " + p.targetAlias() + ")", p.tsih(), Long.toHexString(config.isid()),
                p.targetPortalGroupTag(), p.headerDigest() ? "CRC32C" : "None", p.dataDigest() ? "CRC32C" : "None",
                p.maxRecvDataSegmentLength(), p.maxSendDataSegmentLength(), p.firstBurstLength(),
                p.maxBurstLength(), TextValues.bool(p.initialR2T()), TextValues.bool(p.immediateData()));
        if (!result.complete(connection)) {
            connection.close(); // the login timed out meanwhile
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new IOException(display + ": login failed: the target closed the connection"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String what = cause instanceof IscsiProtocolException ? "protocol violation: " + cause.getMessage()
                : cause.getMessage() == null ? cause.toString() : cause.getMessage();
        fail(ctx, new IOException(display + ": login failed: " + what, cause));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        negotiator.release();
    }

    private void send(ChannelHandlerContext ctx, LoginRequest request) {
        ctx.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, new IOException(display + ": login failed: cannot send: " + f.cause(), f.cause()));
            }
        });
    }

    private void fail(ChannelHandlerContext ctx, IOException e) {
        if (result.completeExceptionally(e)) {
            ctx.close();
        }
    }
}
