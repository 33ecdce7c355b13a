package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.iscsi.backend.ControlCommand.Answer;
import io.mpathnbd.iscsi.scsi.BlockLimits;
import io.mpathnbd.iscsi.scsi.Capacity16;
import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.iscsi.scsi.DeviceIdentification;
import io.mpathnbd.iscsi.scsi.LogicalBlockProvisioning;
import io.mpathnbd.iscsi.scsi.ScsiClassifier;
import io.mpathnbd.iscsi.scsi.ScsiFormatException;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.scsi.StandardInquiry;
import io.mpathnbd.iscsi.scsi.TargetPortGroups;
import io.mpathnbd.iscsi.scsi.UnitSerial;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.netty.buffer.ByteBuf;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Attaches to a logical unit on a freshly logged-in connection: TEST UNIT READY until the unit attentions of the new
 * session are cleared, standard INQUIRY, the VPD pages the unit lists (serial, identification, block limits,
 * provisioning), READ CAPACITY(16), and the ALUA state when the unit reports TPGS. Each step is one command.
 */
final class Attacher {
    /** A new session may owe several unit attentions (power on, parameters changed, ...), each cleared by one TUR. */
    private static final int MAX_UNIT_ATTENTIONS = 8;
    private static final int INQUIRY_LENGTH = 96;
    private static final int VPD_LENGTH = 255;
    private static final int VPD_83_LENGTH = 1024;
    private static final int CAPACITY_LENGTH = 32;
    static final int RTPG_LENGTH = 1024;

    private final IscsiConnection connection;
    private final int lun;
    private final String display;

    Attacher(IscsiConnection connection, int lun, String display) {
        this.connection = connection;
        this.lun = lun;
        this.display = display;
    }

    CompletableFuture<Attachment> attach() {
        return testUnitReady(MAX_UNIT_ATTENTIONS)
                .thenCompose(v -> run(Cdbs.inquiry(INQUIRY_LENGTH), INQUIRY_LENGTH, "INQUIRY"))
                .thenCompose(a -> {
                    StandardInquiry inq = parse("INQUIRY", a, StandardInquiry::parse);
                    if (!inq.connected() || inq.deviceType() == 0x1f) {
                        throw new BackendException(display + ": no logical unit at LUN " + lun, true, null);
                    }
                    if (inq.deviceType() != StandardInquiry.DEVICE_TYPE_DISK) {
                        throw new BackendException(display + ": LUN " + lun + " is not a disk (peripheral device"
                                + " type 0x" + Integer.toHexString(inq.deviceType()) + ")", true, null);
                    }
                    return run(Cdbs.inquiryVpd(Cdbs.VPD_SUPPORTED_PAGES, VPD_LENGTH), VPD_LENGTH,
                            "INQUIRY VPD 0x00").thenCompose(p -> pages(inq, supportedPages(p)));
                });
    }

    private CompletableFuture<Void> testUnitReady(int attentionsLeft) {
        return run(Cdbs.testUnitReady(), 0, "TEST UNIT READY").thenCompose(a -> {
            if (a.good()) {
                return CompletableFuture.completedFuture(null);
            }
            ScsiClassifier.Classification c = a.classify();
            boolean attention = a.sense() != null && a.sense().key() == SenseData.UNIT_ATTENTION;
            if (attention && attentionsLeft > 0) {
                return testUnitReady(attentionsLeft - 1);
            }
            throw new BackendException(display + ": TEST UNIT READY: " + c.message());
        });
    }

    private CompletableFuture<Attachment> pages(StandardInquiry inq, Set<Integer> pages) {
        CompletableFuture<String> serial = pages.contains(Cdbs.VPD_UNIT_SERIAL)
                ? vpd(Cdbs.VPD_UNIT_SERIAL, VPD_LENGTH, d -> UnitSerial.parse(d).serial())
                : CompletableFuture.completedFuture(null);
        return serial.thenCompose(s -> optionalVpd(pages, Cdbs.VPD_DEVICE_IDENTIFICATION, VPD_83_LENGTH,
                DeviceIdentification::parse)
                .thenCompose(id -> optionalVpd(pages, Cdbs.VPD_BLOCK_LIMITS, VPD_LENGTH, BlockLimits::parse)
                .thenCompose(lim -> optionalVpd(pages, Cdbs.VPD_LOGICAL_BLOCK_PROVISIONING, VPD_LENGTH,
                        LogicalBlockProvisioning::parse)
                .thenCompose(lbp -> run(Cdbs.readCapacity16(CAPACITY_LENGTH), CAPACITY_LENGTH, "READ CAPACITY(16)")
                .thenCompose(rc -> {
                    Capacity16 cap = parse("READ CAPACITY(16)", rc, Capacity16::parse);
                    Attachment partial = new Attachment(inq, s, id, lim, lbp, cap, null);
                    if (!inq.alua()) {
                        return CompletableFuture.completedFuture(partial);
                    }
                    return readAlua(partial).thenApply(alua -> new Attachment(inq, s, id, lim, lbp, cap, alua));
                })))));
    }

    /** REPORT TARGET PORT GROUPS, mapped to this path's state. */
    CompletableFuture<AluaStates.Result> readAlua(Attachment a) {
        return run(Cdbs.reportTargetPortGroups(RTPG_LENGTH), RTPG_LENGTH, "REPORT TARGET PORT GROUPS")
                .thenApply(r -> AluaStates.of(parse("REPORT TARGET PORT GROUPS", r, TargetPortGroups::parse),
                        a.relativePort(), a.portGroup()));
    }

    private <T> CompletableFuture<T> optionalVpd(Set<Integer> pages, int page, int length,
            Function<ByteBuf, T> parser) {
        return pages.contains(page) ? vpd(page, length, parser) : CompletableFuture.completedFuture(null);
    }

    private <T> CompletableFuture<T> vpd(int page, int length, Function<ByteBuf, T> parser) {
        String what = String.format("INQUIRY VPD 0x%02x", page);
        return run(Cdbs.inquiryVpd(page, length), length, what).thenApply(a -> parse(what, a, parser));
    }

    private static Set<Integer> supportedPages(Answer a) {
        Set<Integer> pages = new HashSet<>();
        if (!a.good()) {
            return pages; // no list: ask for nothing optional
        }
        ByteBuf d = a.data();
        if (d.readableBytes() < 4) {
            return pages;
        }
        int end = Math.min(d.readableBytes(), 4 + d.getUnsignedShort(2));
        for (int i = 4; i < end; i++) {
            pages.add((int) d.getUnsignedByte(i));
        }
        return pages;
    }

    private CompletableFuture<Answer> run(byte[] cdb, int dataIn, String what) {
        return ControlCommand.run(connection, lun, cdb, dataIn, display + ": " + what);
    }

    private <T> T parse(String what, Answer a, Function<ByteBuf, T> parser) {
        if (!a.good()) {
            throw new BackendException(display + ": " + what + " failed: " + a.classify().message());
        }
        try {
            return parser.apply(a.data());
        } catch (ScsiFormatException e) {
            throw new BackendException(display + ": " + what + ": malformed answer: " + e.getMessage(), e);
        }
    }
}
