package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * VPD page 0x83, Device Identification (SPC-4 7.8.6). Every path to one logical unit must report the same
 * {@link #identity()}. A descriptor cut off by the allocation length is dropped, the complete ones before it kept.
 */
public record DeviceIdentification(List<Designator> designators) {

    private static final int DESCRIPTOR_HEADER = 4;

    public DeviceIdentification {
        designators = List.copyOf(designators);
    }

    public static DeviceIdentification parse(ByteBuf data) {
        int end = Vpd.open(data, Cdbs.VPD_DEVICE_IDENTIFICATION, Vpd.HEADER, "device identification VPD page");
        List<Designator> out = new ArrayList<>();
        int at = Vpd.HEADER;
        while (at + DESCRIPTOR_HEADER <= end) {
            int length = Bytes.u8(data, at + 3);
            if (at + DESCRIPTOR_HEADER + length > end) {
                break;
            }
            int b0 = Bytes.u8(data, at);
            int b1 = Bytes.u8(data, at + 1);
            out.add(new Designator(b0 >>> 4, b0 & 0x0f, (b1 & 0x80) != 0, (b1 >>> 4) & 0x03, b1 & 0x0f,
                    Bytes.copy(data, at + DESCRIPTOR_HEADER, length)));
            at += DESCRIPTOR_HEADER + length;
        }
        return new DeviceIdentification(out);
    }

    /**
     * The best logical-unit designator as a stable string ({@code naa.<hex>}, {@code eui.<hex>}, SCSI name string
     * as is, {@code t10.<ascii>}), chosen in udev scsi_id's order; the first of equal rank wins. Null if none.
     */
    public String identity() {
        Designator best = null;
        int bestRank = Integer.MAX_VALUE;
        for (Designator d : designators) {
            int rank = rank(d);
            if (rank < bestRank) {
                best = d;
                bestRank = rank;
            }
        }
        return best == null ? null : best.identity();
    }

    /** Lower is better; MAX_VALUE for designators that do not name the logical unit. */
    private static int rank(Designator d) {
        byte[] v = d.value;
        if (d.association() != Designator.ASSOCIATION_LOGICAL_UNIT || v.length == 0) {
            return Integer.MAX_VALUE;
        }
        switch (d.type()) {
            case Designator.TYPE_NAA:
                // NAA field: 6 registered extended, 5 registered, 2 extended, 3 locally assigned.
                switch ((v[0] >>> 4) & 0x0f) {
                    case 6: return 0;
                    case 5: return 1;
                    case 2: return 2;
                    default: return 3;
                }
            case Designator.TYPE_EUI64: return 4;
            case Designator.TYPE_SCSI_NAME_STRING: return 5;
            case Designator.TYPE_T10_VENDOR_ID: return 6;
            default: return Integer.MAX_VALUE;
        }
    }

    /** Relative port identifier of the target port this page came through. */
    public OptionalInt relativeTargetPort() {
        return portField(Designator.TYPE_RELATIVE_TARGET_PORT);
    }

    /** Target port group of the target port this page came through. */
    public OptionalInt targetPortGroup() {
        return portField(Designator.TYPE_TARGET_PORT_GROUP);
    }

    /** Both designators are 4 bytes, the 16-bit value in bytes 2..3. */
    private OptionalInt portField(int type) {
        for (Designator d : designators) {
            byte[] v = d.value;
            if (d.association() == Designator.ASSOCIATION_TARGET_PORT && d.type() == type && v.length >= 4) {
                return OptionalInt.of(((v[2] & 0xff) << 8) | (v[3] & 0xff));
            }
        }
        return OptionalInt.empty();
    }

    /** One designation descriptor of VPD page 0x83 (SPC-4 7.8.6.1). {@code value} is the designator itself. */
    public record Designator(int protocolIdentifier, int codeSet, boolean piv, int association, int type,
            byte[] value) {

        public static final int CODE_SET_BINARY = 1;
        public static final int CODE_SET_ASCII = 2;
        public static final int CODE_SET_UTF8 = 3;

        public static final int ASSOCIATION_LOGICAL_UNIT = 0;
        public static final int ASSOCIATION_TARGET_PORT = 1;
        public static final int ASSOCIATION_TARGET_DEVICE = 2;

        public static final int TYPE_VENDOR_SPECIFIC = 0x0;
        public static final int TYPE_T10_VENDOR_ID = 0x1;
        public static final int TYPE_EUI64 = 0x2;
        public static final int TYPE_NAA = 0x3;
        public static final int TYPE_RELATIVE_TARGET_PORT = 0x4;
        public static final int TYPE_TARGET_PORT_GROUP = 0x5;
        public static final int TYPE_LOGICAL_UNIT_GROUP = 0x6;
        public static final int TYPE_MD5_LOGICAL_UNIT = 0x7;
        public static final int TYPE_SCSI_NAME_STRING = 0x8;

        public Designator {
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        /** The value as text for the ASCII/UTF-8 code sets, trailing NUL padding removed. */
        public String text() {
            return new String(value, codeSet == CODE_SET_UTF8 ? StandardCharsets.UTF_8 : StandardCharsets.US_ASCII)
                    .replace("\0", "").trim();
        }

        public String hex() {
            return Bytes.hex(value);
        }

        /**
         * Stable identity string for the designator types that name a logical unit; null for the others. A binary
         * SCSI name string is not defined, so such values are shown as hex.
         */
        public String identity() {
            switch (type) {
                case TYPE_NAA: return "naa." + hex();
                case TYPE_EUI64: return "eui." + hex();
                case TYPE_SCSI_NAME_STRING: return codeSet == CODE_SET_BINARY ? hex() : text();
                case TYPE_T10_VENDOR_ID: return "t10." + (codeSet == CODE_SET_BINARY ? hex() : text());
                default: return null;
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Designator d && protocolIdentifier == d.protocolIdentifier && codeSet == d.codeSet
                    && piv == d.piv && association == d.association && type == d.type && Arrays.equals(value, d.value);
        }

        @Override
        public int hashCode() {
            return 31 * (association * 16 + type) + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            String shown = codeSet == CODE_SET_BINARY ? hex() : text();
            return "Designator[type=" + type + ", association=" + association + ", codeSet=" + codeSet + ", value="
                    + shown + "]";
        }
    }
}
