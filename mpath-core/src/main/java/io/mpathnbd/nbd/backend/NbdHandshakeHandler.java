package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.nbd.protocol.NbdClientFlags;
import io.mpathnbd.nbd.protocol.NbdClientHandshakeDecoder;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdExportNameReply;
import io.mpathnbd.nbd.protocol.NbdOption;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads.InfoRecord;
import io.mpathnbd.nbd.protocol.NbdOptionPayloads.MetaContextRecord;
import io.mpathnbd.nbd.protocol.NbdOptionReply;
import io.mpathnbd.nbd.protocol.NbdProtocolException;
import io.mpathnbd.nbd.protocol.NbdServerGreeting;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The client side of the fixed-newstyle handshake, one option at a time: STARTTLS first for an {@code nbds://} path
 * (an ACK, then TLS at the front of the pipeline, then everything else over TLS; a refusal fails the connect, never
 * falling back to clear text), EXTENDED_HEADERS (which implies structured replies; a refusal, as from nbdkit or
 * qemu before 8.2, falls back to STRUCTURED_REPLY), STRUCTURED_REPLY (a refusal means simple replies),
 * SET_META_CONTEXT base:allocation (when structured; none is fine), then GO with NAME, DESCRIPTION and
 * BLOCK_SIZE info requests, or EXPORT_NAME for a server that does not know GO. Completes {@code result} with what was
 * negotiated, or with a {@link BackendException} (configuration error when the server does not have the export or
 * refuses us for a reason a retry cannot fix). Its owner switches the pipeline to transmission on success.
 */
final class NbdHandshakeHandler extends ChannelInboundHandlerAdapter {
    private enum Step {
        GREETING, STARTTLS, TLS_HANDSHAKE, EXTENDED_HEADERS, STRUCTURED_REPLY, META_CONTEXT, GO, EXPORT_NAME, DONE
    }

    private final String exportName;
    private final String serverDisplay;
    private final NbdClientHandshakeDecoder decoder;
    private final Supplier<SslHandler> startTls;
    private final Function<Negotiated, NbdConnection> transmission;
    private final CompletableFuture<NbdConnection> result;

    private Step step = Step.GREETING;
    private boolean tlsUp;
    private boolean noZeroes;
    private boolean structured;
    private boolean extended;
    private int contextId = -1;
    private long size = -1;
    private int transmissionFlags;
    private int minBlock = Negotiated.DEFAULT_MIN_BLOCK;
    private int preferredBlock = Negotiated.DEFAULT_PREFERRED_BLOCK;
    private int maxBlock = Negotiated.DEFAULT_MAX_BLOCK;
    private String description;
    private String canonicalName;

    /**
     * @param startTls makes the TLS handler after STARTTLS; null: clear text, no STARTTLS
     * @param transmission makes the transmission-phase handler once the handshake has succeeded
     * @param result completed with the installed transmission handler, or with a {@link BackendException}
     */
    NbdHandshakeHandler(String exportName, String serverDisplay, NbdClientHandshakeDecoder decoder,
            Supplier<SslHandler> startTls, Function<Negotiated, NbdConnection> transmission,
            CompletableFuture<NbdConnection> result) {
        this.exportName = exportName;
        this.serverDisplay = serverDisplay;
        this.decoder = decoder;
        this.startTls = startTls;
        this.transmission = transmission;
        this.result = result;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (result.isDone()) {
                return;
            }
            if (msg instanceof NbdServerGreeting) {
                onGreeting(ctx, (NbdServerGreeting) msg);
            } else if (msg instanceof NbdOptionReply) {
                onOptionReply(ctx, (NbdOptionReply) msg);
            } else if (msg instanceof NbdExportNameReply) {
                NbdExportNameReply r = (NbdExportNameReply) msg;
                size = r.size();
                transmissionFlags = r.transmissionFlags();
                finish(ctx, true);
            } else {
                fail(ctx, new BackendException(serverDisplay + ": unexpected handshake message " + msg));
            }
        } catch (NbdProtocolException e) {
            fail(ctx, new BackendException(serverDisplay + ": malformed handshake reply: " + e.getMessage(), e));
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onGreeting(ChannelHandlerContext ctx, NbdServerGreeting greeting) {
        int flags = greeting.handshakeFlags();
        if ((flags & NbdConstants.FLAG_FIXED_NEWSTYLE) == 0) {
            fail(ctx, new BackendException(serverDisplay + ": the server does not support fixed newstyle negotiation"
                    + " (handshake flags 0x" + Integer.toHexString(flags) + "); such servers are not supported",
                    true, null));
            return;
        }
        noZeroes = (flags & NbdConstants.FLAG_NO_ZEROES) != 0;
        int clientFlags = NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | (noZeroes ? NbdConstants.CLIENT_FLAG_NO_ZEROES : 0);
        ctx.write(new NbdClientFlags(clientFlags));
        if (startTls != null) {
            step = Step.STARTTLS;
            ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_STARTTLS, null));
            return;
        }
        sendExtendedHeaders(ctx);
    }

    private void sendExtendedHeaders(ChannelHandlerContext ctx) {
        step = Step.EXTENDED_HEADERS;
        ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_EXTENDED_HEADERS, null));
    }

    private void sendStructuredReply(ChannelHandlerContext ctx) {
        step = Step.STRUCTURED_REPLY;
        ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_STRUCTURED_REPLY, null));
    }

    private void onStartTlsReply(ChannelHandlerContext ctx, NbdOptionReply reply) {
        expectOption(reply, NbdConstants.OPT_STARTTLS);
        int type = reply.replyType();
        if (type == NbdConstants.REP_ACK) {
            startTls(ctx);
        } else if (reply.isError()) {
            String text = serverText(reply.data());
            fail(ctx, new BackendException(serverDisplay + ": refused STARTTLS: " + replyName(type)
                    + (text.isEmpty() ? "" : " (" + text + ")") + "; an nbds:// path never falls back to clear text",
                    true, null));
        } else {
            throw new NbdProtocolException("unexpected reply type 0x" + Integer.toHexString(type) + " to STARTTLS");
        }
    }

    /**
     * TLS goes at the front of the pipeline, below the NBD codecs; the server sends nothing between its ACK and our
     * ClientHello, so no clear-text bytes can be left in the handshake decoder.
     */
    private void startTls(ChannelHandlerContext ctx) {
        step = Step.TLS_HANDSHAKE;
        SslHandler ssl = startTls.get();
        ctx.pipeline().addFirst(NbdConnection.TLS, ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (result.isDone()) {
                return;
            }
            if (f.isSuccess()) {
                tlsUp = true;
                sendExtendedHeaders(ctx);
            } else {
                fail(ctx, new BackendException(serverDisplay + ": TLS handshake failed: "
                        + BackendException.describe(tlsCause(f.cause())), f.cause()));
            }
        });
    }

    private void onOptionReply(ChannelHandlerContext ctx, NbdOptionReply reply) {
        switch (step) {
            case STARTTLS:
                onStartTlsReply(ctx, reply);
                break;
            case EXTENDED_HEADERS:
                expectOption(reply, NbdConstants.OPT_EXTENDED_HEADERS);
                if (reply.replyType() == NbdConstants.REP_ACK) {
                    extended = true;
                    structured = true;
                    sendMetaContext(ctx);
                } else if (reply.isError()) {
                    // fine: compact headers, and structured replies if the server has them
                    sendStructuredReply(ctx);
                } else {
                    throw new NbdProtocolException("unexpected reply type 0x" + Integer.toHexString(reply.replyType())
                            + " to EXTENDED_HEADERS");
                }
                break;
            case STRUCTURED_REPLY:
                expectOption(reply, NbdConstants.OPT_STRUCTURED_REPLY);
                if (reply.replyType() == NbdConstants.REP_ACK) {
                    structured = true;
                    sendMetaContext(ctx);
                } else if (reply.isError()) {
                    // fine: simple replies only
                    sendGo(ctx);
                } else {
                    throw new NbdProtocolException("unexpected reply type 0x" + Integer.toHexString(reply.replyType())
                            + " to STRUCTURED_REPLY");
                }
                break;
            case META_CONTEXT:
                expectOption(reply, NbdConstants.OPT_SET_META_CONTEXT);
                if (reply.replyType() == NbdConstants.REP_META_CONTEXT) {
                    MetaContextRecord r = NbdOptionPayloads.parseMetaContextReply(reply.data());
                    if (NbdConstants.META_BASE_ALLOCATION.equals(r.name())) {
                        contextId = r.id();
                    }
                } else if (reply.replyType() == NbdConstants.REP_ACK || reply.isError()) {
                    // an error only means no allocation information
                    if (reply.isError()) {
                        contextId = -1;
                    }
                    sendGo(ctx);
                } else {
                    throw new NbdProtocolException("unexpected reply type 0x" + Integer.toHexString(reply.replyType())
                            + " to SET_META_CONTEXT");
                }
                break;
            case GO:
                expectOption(reply, NbdConstants.OPT_GO);
                onGoReply(ctx, reply);
                break;
            default:
                throw new NbdProtocolException("unexpected option reply " + reply + " in step " + step);
        }
    }

    private void onGoReply(ChannelHandlerContext ctx, NbdOptionReply reply) {
        int type = reply.replyType();
        if (type == NbdConstants.REP_INFO) {
            onInfo(NbdOptionPayloads.parseInfo(reply.data()));
        } else if (type == NbdConstants.REP_ACK) {
            if (size < 0) {
                throw new NbdProtocolException("GO acknowledged without INFO_EXPORT");
            }
            finish(ctx, false);
        } else if (type == NbdConstants.REP_ERR_UNSUP && extended) {
            fail(ctx, new BackendException(serverDisplay + ": the server acknowledged EXTENDED_HEADERS, then refused"
                    + " GO as unsupported, which the spec forbids (EXPORT_NAME may not follow extended headers)",
                    null));
        } else if (type == NbdConstants.REP_ERR_UNSUP) {
            // an old server: EXPORT_NAME has no error reply, the server just closes if it lacks the export
            step = Step.EXPORT_NAME;
            decoder.expectExportNameReply(noZeroes);
            ByteBuf name = ctx.alloc().buffer(ByteBufUtil.utf8Bytes(exportName));
            ByteBufUtil.writeUtf8(name, exportName);
            ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_EXPORT_NAME, name));
        } else if (reply.isError()) {
            fail(ctx, goError(type, reply.data()));
        } else {
            throw new NbdProtocolException("unexpected reply type 0x" + Integer.toHexString(type) + " to GO");
        }
    }

    private void onInfo(InfoRecord info) {
        switch (info.type()) {
            case NbdConstants.INFO_EXPORT:
                size = info.size();
                transmissionFlags = info.flags();
                if (size < 0) {
                    throw new NbdProtocolException("export size " + Long.toUnsignedString(size) + " is too large");
                }
                break;
            case NbdConstants.INFO_NAME:
                canonicalName = info.text();
                break;
            case NbdConstants.INFO_DESCRIPTION:
                description = info.text();
                break;
            case NbdConstants.INFO_BLOCK_SIZE:
                setBlockSizes(info.minBlock(), info.preferredBlock(), info.maxBlock());
                break;
            default:
                // unknown info types are ignored, as the spec asks
                break;
        }
    }

    private void setBlockSizes(int min, int preferred, int max) {
        long maxU = Integer.toUnsignedLong(max);
        boolean valid = min > 0 && min <= 64 * 1024 && Integer.bitCount(min) == 1
                && preferred >= min && Integer.bitCount(preferred) == 1
                && (maxU == 0xffffffffL || (maxU >= preferred && maxU % min == 0));
        if (!valid) {
            throw new NbdProtocolException("invalid INFO_BLOCK_SIZE " + min + "/" + Integer.toUnsignedString(preferred)
                    + "/" + Long.toString(maxU));
        }
        minBlock = min;
        preferredBlock = preferred;
        maxBlock = maxU > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) maxU;
    }

    private static String serverText(ByteBuf data) {
        return data != null && data.isReadable()
                ? data.toString(data.readerIndex(), Math.min(data.readableBytes(), NbdConstants.MAX_STRING),
                        StandardCharsets.UTF_8)
                : "";
    }

    private static String replyName(int type) {
        switch (type) {
            case NbdConstants.REP_ERR_UNSUP: return "NBD_REP_ERR_UNSUP";
            case NbdConstants.REP_ERR_POLICY: return "NBD_REP_ERR_POLICY";
            case NbdConstants.REP_ERR_INVALID: return "NBD_REP_ERR_INVALID";
            case NbdConstants.REP_ERR_PLATFORM: return "NBD_REP_ERR_PLATFORM";
            case NbdConstants.REP_ERR_SHUTDOWN: return "NBD_REP_ERR_SHUTDOWN";
            default: return "error 0x" + Integer.toHexString(type);
        }
    }

    /** The SSLException inside a decoder's wrapper, which says what TLS found wrong. */
    private static Throwable tlsCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLException) {
                return c;
            }
        }
        return t;
    }

    private BackendException goError(int type, ByteBuf data) {
        String serverMessage = serverText(data);
        String suffix = serverMessage.isEmpty() ? "" : ": " + serverMessage;
        switch (type) {
            case NbdConstants.REP_ERR_UNKNOWN:
                return new BackendException(serverDisplay + ": the server has no export named '" + exportName + "'"
                        + suffix, true, null);
            case NbdConstants.REP_ERR_TLS_REQD:
                return new BackendException(serverDisplay + ": the server requires TLS, which is not supported"
                        + suffix, true, null);
            case NbdConstants.REP_ERR_POLICY:
                return new BackendException(serverDisplay + ": the server refuses export '" + exportName
                        + "' by policy" + suffix, true, null);
            case NbdConstants.REP_ERR_BLOCK_SIZE_REQD:
                return new BackendException(serverDisplay + ": the server requires block size negotiation" + suffix,
                        true, null);
            case NbdConstants.REP_ERR_SHUTDOWN:
                return new BackendException(serverDisplay + ": the server is shutting down" + suffix);
            default:
                return new BackendException(serverDisplay + ": GO for export '" + exportName
                        + "' failed with error 0x" + Integer.toHexString(type) + suffix);
        }
    }

    private void sendMetaContext(ChannelHandlerContext ctx) {
        step = Step.META_CONTEXT;
        ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_SET_META_CONTEXT,
                NbdOptionPayloads.metaContextQuery(ctx.alloc(), exportName, NbdConstants.META_BASE_ALLOCATION)));
    }

    private void sendGo(ChannelHandlerContext ctx) {
        step = Step.GO;
        ctx.writeAndFlush(new NbdOption(NbdConstants.OPT_GO, NbdOptionPayloads.infoOrGo(ctx.alloc(), exportName,
                NbdConstants.INFO_NAME, NbdConstants.INFO_DESCRIPTION, NbdConstants.INFO_BLOCK_SIZE)));
    }

    private static void expectOption(NbdOptionReply reply, int option) {
        if (reply.option() != option) {
            throw new NbdProtocolException("reply for option " + NbdConstants.optionName(reply.option())
                    + " while waiting for " + NbdConstants.optionName(option));
        }
    }

    /**
     * Switches this channel to transmission within the read that ended the handshake, so that nothing the server
     * sends next can reach a handshake handler: the reply decoder goes in before the handshake decoder is removed
     * (which hands it any bytes already buffered).
     */
    private void finish(ChannelHandlerContext ctx, boolean usedExportName) {
        step = Step.DONE;
        if (!structured) {
            contextId = -1;
        }
        Negotiated n = new Negotiated(size, transmissionFlags, structured, contextId, minBlock, preferredBlock,
                maxBlock, description, canonicalName, usedExportName, extended);
        NbdConnection connection = transmission.apply(n);
        ChannelPipeline p = ctx.pipeline();
        p.addAfter(NbdConnection.HANDSHAKE_DECODER, NbdConnection.REPLY_DECODER, connection.newReplyDecoder());
        p.replace(NbdConnection.HANDSHAKE_ENCODER, NbdConnection.REQUEST_ENCODER,
                NbdConnection.requestEncoder(extended));
        p.replace(this, NbdConnection.TRANSMISSION, connection);
        p.remove(NbdConnection.HANDSHAKE_DECODER);
        if (!result.complete(connection)) {
            // the connect deadline passed meanwhile
            ctx.channel().close();
        }
    }

    private void fail(ChannelHandlerContext ctx, BackendException e) {
        if (result.completeExceptionally(e)) {
            ctx.close();
        }
    }

    /**
     * A TLS 1.3 server checks our certificate after our side of the handshake is done: a server that wants one and
     * got none drops the connection right after, on our first option.
     */
    private String droppedAfterTls() {
        return tlsUp && step == Step.EXTENDED_HEADERS ? " right after TLS was set up: does the server require a client"
                + " certificate (backend-tls cert-file and key-file, or client-cert.pem in certificates)?" : "";
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!result.isDone()) {
            if (step == Step.EXPORT_NAME) {
                // EXPORT_NAME cannot answer an error: closing is how such a server says it has no such export
                result.completeExceptionally(new BackendException(serverDisplay + ": the server closed the connection"
                        + " after EXPORT_NAME '" + exportName + "' (it does not have that export)", true, null));
            } else {
                result.completeExceptionally(new BackendException(serverDisplay
                        + ": the server closed the connection during the handshake (step " + step + ")"
                        + droppedAfterTls()));
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable tls = tlsCause(cause);
        String what = cause instanceof NbdProtocolException ? "malformed handshake reply: "
                : tls instanceof SSLException ? "TLS failed: " : "handshake failed: ";
        fail(ctx, new BackendException(serverDisplay + ": " + what + BackendException.describe(tls)
                + droppedAfterTls(), cause));
        ctx.close();
    }
}
