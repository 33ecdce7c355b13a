package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.IscsiProtocolException;
import io.mpathnbd.iscsi.pdu.LoginRequest;
import io.mpathnbd.iscsi.pdu.LoginResponse;
import io.mpathnbd.iscsi.pdu.LoginStage;
import io.mpathnbd.iscsi.pdu.TextKeys;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * The initiator's side of one login, free of I/O: makes each Login Request from the previous Login Response. Stages:
 * security (AuthMethod None, or CHAP with MD5 and optionally the target's CHAP answer to our challenge), then
 * operational ({@link OperationalKeys}), then full feature phase. Continued responses (C bit) are gathered before
 * their text is read. A refusal becomes a {@link LoginException} with the target's status; a target that breaks the
 * protocol an {@link IscsiProtocolException}. Not thread-safe; one instance per login.
 */
final class LoginNegotiator {
    private static final String AUTH_METHOD = "AuthMethod";
    private static final String CHAP = "CHAP";
    private static final int LOGIN_ITT = 0;

    private enum Phase { SECURITY, CHAP_ALGORITHM, CHAP_CHALLENGE_ANSWERED, OPERATIONAL, DONE }

    private final IscsiSessionConfig config;
    private final OperationalKeys operational;
    private final int initialCmdSN;
    private Phase phase = Phase.SECURITY;
    private int stage = LoginStage.SECURITY_NEGOTIATION;
    private int expStatSN;
    private ByteBuf continued;
    private byte[] mutualChallenge;
    private int mutualId;
    private NegotiatedParameters result;

    LoginNegotiator(IscsiSessionConfig config, int initialCmdSN) {
        this.config = config;
        this.operational = new OperationalKeys(config);
        this.initialCmdSN = initialCmdSN;
    }

    /** The first Login Request (the caller owns it). */
    LoginRequest start(ByteBufAllocator alloc) {
        List<TextKeys.Pair> keys = new ArrayList<>();
        keys.add(new TextKeys.Pair("InitiatorName", config.initiatorName()));
        keys.add(new TextKeys.Pair("SessionType", config.discovery() ? "Discovery" : "Normal"));
        if (!config.discovery()) {
            keys.add(new TextKeys.Pair("TargetName", config.targetName()));
        }
        if (config.chap() == null) {
            keys.add(new TextKeys.Pair(AUTH_METHOD, TextValues.NONE));
            return request(alloc, true, LoginStage.OPERATIONAL_NEGOTIATION, keys);
        }
        // with mutual CHAP the target must prove itself, so None is not offered
        keys.add(new TextKeys.Pair(AUTH_METHOD, config.mutualChap() != null ? CHAP : CHAP + "," + TextValues.NONE));
        return request(alloc, false, 0, keys);
    }

    /**
     * The next request after {@code response} (the caller still owns and releases the response), or null when the
     * login is complete ({@link #result()}).
     */
    LoginRequest onResponse(LoginResponse response, ByteBufAllocator alloc) throws LoginException {
        if (!response.succeeded()) {
            throw refused(response);
        }
        if (response.versionActive() != 0) {
            throw new IscsiProtocolException("target chose iSCSI version " + response.versionActive());
        }
        if (response.currentStage() != stage) {
            throw new IscsiProtocolException("Login Response for stage " + response.currentStage()
                    + " while in stage " + stage);
        }
        if (response.itt() != LOGIN_ITT) {
            throw new IscsiProtocolException("Login Response with ITT 0x" + Integer.toHexString(response.itt()));
        }
        expStatSN = response.statSN() + 1;
        if (response.isContinue()) {
            gather(response.data());
            return request(alloc, false, 0, List.of()); // ask for the rest of the text
        }
        TextKeys keys = text(response.data());
        try {
            switch (phase) {
                case SECURITY:
                    return security(keys, response, alloc);
                case CHAP_ALGORITHM:
                    return chapChallenge(keys, response, alloc);
                case CHAP_CHALLENGE_ANSWERED:
                    return chapVerified(keys, response, alloc);
                case OPERATIONAL:
                    return operational(keys, response, alloc);
                default:
                    throw new IscsiProtocolException("Login Response after the login completed");
            }
        } catch (IllegalArgumentException e) {
            throw new IscsiProtocolException("login: " + e.getMessage());
        }
    }

    /** The negotiated parameters once {@link #onResponse} returned null. */
    NegotiatedParameters result() {
        return result;
    }

    /** ExpStatSN for the first full-feature PDU. */
    int expStatSN() {
        return expStatSN;
    }

    /** Releases gathered text of an unfinished login. */
    void release() {
        if (continued != null) {
            continued.release();
            continued = null;
        }
    }

    private LoginRequest security(TextKeys keys, LoginResponse response, ByteBufAllocator alloc)
            throws LoginException {
        operational.accept(declarationsOnly(keys));
        String method = keys.get(AUTH_METHOD);
        if (method == null && config.chap() == null && response.transit()) {
            method = TextValues.NONE; // no answer needed for what the target already accepted
        }
        if (CHAP.equals(method)) {
            if (config.chap() == null) {
                throw new IscsiProtocolException("target chose AuthMethod=CHAP, which was not offered");
            }
            phase = Phase.CHAP_ALGORITHM;
            return request(alloc, false, 0, List.of(new TextKeys.Pair("CHAP_A", Chap.ALGORITHM_MD5)));
        }
        if (TextValues.NONE.equals(method)) {
            if (config.mutualChap() != null) {
                throw configuration("the target does not authenticate (AuthMethod=None) but mutual CHAP is "
                        + "configured");
            }
            return leaveSecurity(response, alloc);
        }
        throw configuration("the target refused AuthMethod " + (config.chap() == null ? "None" : "CHAP")
                + " (answer " + AUTH_METHOD + "=" + method + ")");
    }

    private LoginRequest chapChallenge(TextKeys keys, LoginResponse response, ByteBufAllocator alloc)
            throws LoginException {
        String algorithm = keys.get("CHAP_A");
        String id = keys.get("CHAP_I");
        String challenge = keys.get("CHAP_C");
        if (!Chap.ALGORITHM_MD5.equals(algorithm)) {
            throw configuration("the target refused CHAP with MD5 (CHAP_A=" + algorithm + ")");
        }
        if (id == null || challenge == null) {
            throw new IscsiProtocolException("CHAP challenge without CHAP_I or CHAP_C");
        }
        byte[] answer = Chap.response(Chap.identifier(id), config.chap().secret(), Chap.decode(challenge));
        List<TextKeys.Pair> reply = new ArrayList<>();
        reply.add(new TextKeys.Pair("CHAP_N", config.chap().user()));
        reply.add(new TextKeys.Pair("CHAP_R", Chap.encode(answer)));
        if (config.mutualChap() != null) {
            mutualId = Chap.newIdentifier();
            mutualChallenge = Chap.newChallenge();
            reply.add(new TextKeys.Pair("CHAP_I", Integer.toString(mutualId)));
            reply.add(new TextKeys.Pair("CHAP_C", Chap.encode(mutualChallenge)));
        }
        phase = Phase.CHAP_CHALLENGE_ANSWERED;
        return request(alloc, true, LoginStage.OPERATIONAL_NEGOTIATION, reply);
    }

    private LoginRequest chapVerified(TextKeys keys, LoginResponse response, ByteBufAllocator alloc)
            throws LoginException {
        operational.accept(declarationsOnly(keys));
        if (config.mutualChap() != null && mutualChallenge != null) {
            String name = keys.get("CHAP_N");
            String answer = keys.get("CHAP_R");
            if (name == null || answer == null) {
                throw configuration("mutual CHAP: the target did not answer our challenge");
            }
            if (!name.equals(config.mutualChap().user())) {
                throw configuration("mutual CHAP: the target calls itself '" + name + "', expected '"
                        + config.mutualChap().user() + "'");
            }
            byte[] expected = Chap.response(mutualId, config.mutualChap().secret(), mutualChallenge);
            if (!Chap.matches(expected, Chap.decode(answer))) {
                throw configuration("mutual CHAP: the target's response is wrong (secret mismatch)");
            }
            mutualChallenge = null; // verified once; a repeated answer is not accepted again
        }
        return leaveSecurity(response, alloc);
    }

    private LoginRequest leaveSecurity(LoginResponse response, ByteBufAllocator alloc) {
        if (response.transit() && response.nextStage() == LoginStage.OPERATIONAL_NEGOTIATION) {
            stage = LoginStage.OPERATIONAL_NEGOTIATION;
            phase = Phase.OPERATIONAL;
            return request(alloc, true, LoginStage.FULL_FEATURE_PHASE, operational.offer());
        }
        if (response.transit()) {
            throw new IscsiProtocolException("target moved from the security stage to stage "
                    + response.nextStage());
        }
        // the target stays in the security stage: repeat our wish to move on, without keys
        return request(alloc, true, LoginStage.OPERATIONAL_NEGOTIATION, List.of());
    }

    private LoginRequest operational(TextKeys keys, LoginResponse response, ByteBufAllocator alloc) {
        List<TextKeys.Pair> replies = operational.accept(keys);
        if (response.transit()) {
            if (response.nextStage() != LoginStage.FULL_FEATURE_PHASE) {
                throw new IscsiProtocolException("target moved to stage " + response.nextStage());
            }
            // offers the target made in its final response cannot be answered any more; they keep their results
            result = operational.result(response.tsih());
            phase = Phase.DONE;
            return null;
        }
        return request(alloc, true, LoginStage.FULL_FEATURE_PHASE, replies);
    }

    /** Keys the target may declare in any stage (alias, portal group tag); negotiation keys wait for their stage. */
    private static TextKeys declarationsOnly(TextKeys keys) {
        List<TextKeys.Pair> list = new ArrayList<>();
        for (TextKeys.Pair p : keys.pairs()) {
            if (p.key().equals(OperationalKeys.TARGET_ALIAS) || p.key().equals(OperationalKeys.TARGET_PORTAL_GROUP_TAG)) {
                list.add(p);
            }
        }
        return TextKeys.of(list);
    }

    private void gather(ByteBuf part) {
        if (continued == null) {
            continued = Unpooled.buffer(part.readableBytes() * 2);
        }
        continued.writeBytes(part, part.readerIndex(), part.readableBytes());
    }

    private TextKeys text(ByteBuf last) {
        if (continued == null) {
            return TextKeys.decode(last);
        }
        try {
            gather(last);
            return TextKeys.decode(continued);
        } finally {
            release();
        }
    }

    private LoginRequest request(ByteBufAllocator alloc, boolean transit, int nextStage, List<TextKeys.Pair> keys) {
        ByteBuf data = keys.isEmpty() ? null : TextKeys.of(keys).encode(alloc);
        return new LoginRequest(transit, false, stage, transit ? nextStage : 0, 0, 0, config.isid(), 0, LOGIN_ITT, 0,
                initialCmdSN, expStatSN, data);
    }

    private LoginException refused(LoginResponse response) {
        int c = response.statusClass();
        int d = response.statusDetail();
        String where = (config.discovery() ? "discovery session" : config.targetName()) + " at "
                + config.portalText();
        String message = "login to " + where + " refused: " + LoginStatus.describe(c, d);
        if (c == LoginResponse.CLASS_REDIRECTION) {
            String address = redirectAddress(response);
            if (address != null) {
                message += ", TargetAddress=" + address;
            }
        }
        if (c == LoginResponse.CLASS_INITIATOR_ERROR && d == 1 && config.chap() != null) {
            message += " for CHAP user '" + config.chap().user() + "' (wrong user or secret?)";
        }
        return new LoginException(message, c, d);
    }

    private static String redirectAddress(LoginResponse response) {
        try {
            return TextKeys.decode(response.data()).get(OperationalKeys.TARGET_ADDRESS);
        } catch (IscsiProtocolException e) {
            return null;
        }
    }

    private LoginException configuration(String why) {
        return new LoginException("login to " + (config.discovery() ? "discovery session" : config.targetName())
                + " at " + config.portalText() + " failed: " + why, LoginException.LOCAL, 0, true);
    }
}
