package io.mpathnbd.iscsi.scsi;

import io.mpathnbd.core.backend.ReservationOps.Capabilities;
import io.mpathnbd.core.backend.ReservationOps.FullStatus;
import io.mpathnbd.core.backend.ReservationOps.RegisterFlags;
import io.mpathnbd.core.backend.ReservationOps.Registrant;
import io.mpathnbd.core.backend.ReservationOps.Holder;
import io.mpathnbd.core.backend.ReservationOps.Keys;
import io.mpathnbd.core.backend.ReservationOps.Status;
import io.mpathnbd.core.backend.ReservationType;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * PERSISTENT RESERVE IN and OUT (SPC-4 6.15, 6.16): the CDBs, the OUT parameter list and the IN data, read into the
 * SPI's records. Scope is always LU; the OUT parameter list sets APTPL and ALL_TG_PT only when asked, never
 * SPEC_I_PT.
 */
public final class PersistentReserve {
    public static final int IN = 0x5E;
    public static final int OUT = 0x5F;

    public static final int READ_KEYS = 0;
    public static final int READ_RESERVATION = 1;
    public static final int REPORT_CAPABILITIES = 2;
    public static final int READ_FULL_STATUS = 3;
    static final int APTPL = 0x01;
    static final int ALL_TG_PT = 0x04;
    /** iSCSI's protocol identifier in a TransportID (SPC-4 7.6.4). */
    private static final int PROTOCOL_ISCSI = 5;

    public static final int REGISTER = 0;
    public static final int RESERVE = 1;
    public static final int RELEASE = 2;
    public static final int CLEAR = 3;
    public static final int PREEMPT = 4;
    public static final int PREEMPT_AND_ABORT = 5;
    public static final int REGISTER_AND_IGNORE_EXISTING_KEY = 6;

    /** The basic OUT parameter list: reservation key, service action reservation key, obsolete, flags, reserved. */
    public static final int PARAMETER_LIST_LENGTH = 24;

    private PersistentReserve() {
    }

    public static byte[] in(int serviceAction, int alloc) {
        if (serviceAction < 0 || serviceAction > 0x1f || alloc < 0 || alloc > 0xffff) {
            throw new IllegalArgumentException("PR IN service action " + serviceAction + ", allocation " + alloc);
        }
        byte[] cdb = new byte[10];
        cdb[0] = IN;
        cdb[1] = (byte) serviceAction;
        cdb[7] = (byte) (alloc >>> 8);
        cdb[8] = (byte) alloc;
        return cdb;
    }

    /** {@code type} null where the service action ignores it (REGISTER, CLEAR). */
    public static byte[] out(int serviceAction, ReservationType type) {
        if (serviceAction < 0 || serviceAction > 0x1f) {
            throw new IllegalArgumentException("PR OUT service action " + serviceAction);
        }
        byte[] cdb = new byte[10];
        cdb[0] = OUT;
        cdb[1] = (byte) serviceAction;
        cdb[2] = (byte) (type == null ? 0 : type.spcCode()); // scope 0: LU
        cdb[8] = PARAMETER_LIST_LENGTH; // bytes 5-8, big-endian
        return cdb;
    }

    public static byte[] parameters(long key, long serviceActionKey) {
        return parameters(key, serviceActionKey, RegisterFlags.NONE);
    }

    /** The parameter list with {@code flags} in byte 20 (APTPL 0x01, ALL_TG_PT 0x04). */
    public static byte[] parameters(long key, long serviceActionKey, RegisterFlags flags) {
        byte[] p = new byte[PARAMETER_LIST_LENGTH];
        p[20] = (byte) ((flags.aptpl() ? APTPL : 0) | (flags.allTargetPorts() ? ALL_TG_PT : 0));
        for (int i = 0; i < 8; i++) {
            p[i] = (byte) (key >>> (56 - 8 * i));
            p[8 + i] = (byte) (serviceActionKey >>> (56 - 8 * i));
        }
        return p;
    }

    /** READ KEYS data; a key list cut short by the allocation length keeps the keys that fit. */
    public static Keys keys(ByteBuf d) {
        Bytes.require(d, 8, "READ KEYS");
        long generation = Bytes.u32(d, 0);
        long length = Bytes.u32(d, 4);
        if (length % 8 != 0) {
            throw new ScsiFormatException("READ KEYS additional length " + length + " is not a multiple of 8");
        }
        int end = Bytes.usable(d, 8 + length);
        List<Long> keys = new ArrayList<>();
        for (int i = 8; i + 8 <= end; i += 8) {
            keys.add(Bytes.s64(d, i));
        }
        return new Keys(generation, keys);
    }

    public static Status reservation(ByteBuf d) {
        Bytes.require(d, 8, "READ RESERVATION");
        long generation = Bytes.u32(d, 0);
        long length = Bytes.u32(d, 4);
        if (length == 0) {
            return new Status(generation, null);
        }
        Bytes.require(d, 24, "READ RESERVATION with a reservation");
        int type = Bytes.u8(d, 21) & 0x0f;
        try {
            return new Status(generation, new Holder(Bytes.s64(d, 8), ReservationType.ofSpcCode(type)));
        } catch (IllegalArgumentException e) {
            throw new ScsiFormatException("READ RESERVATION: " + e.getMessage());
        }
    }

    /**
     * READ FULL STATUS data (SPC-4 6.15.5): per descriptor the key, ALL_TG_PT and R_HOLDER, scope and type, the
     * relative target port, and the initiator's TransportID (an iSCSI name shown as text). A list cut short by the
     * allocation length keeps the descriptors that fit whole.
     */
    public static FullStatus fullStatus(ByteBuf d) {
        Bytes.require(d, 8, "READ FULL STATUS");
        long generation = Bytes.u32(d, 0);
        int end = Bytes.usable(d, 8 + Bytes.u32(d, 4));
        List<Registrant> out = new ArrayList<>();
        int at = 8;
        while (at + 24 <= end) {
            long key = Bytes.s64(d, at);
            int flags = Bytes.u8(d, at + 12);
            boolean holder = (flags & 0x01) != 0;
            int type = Bytes.u8(d, at + 13) & 0x0f;
            int port = Bytes.u16(d, at + 18);
            long idLength = Bytes.u32(d, at + 20);
            if (at + 24 + idLength > end) {
                break; // cut short
            }
            int id = at + 24;
            ReservationType t;
            try {
                t = holder ? ReservationType.ofSpcCode(type) : null;
            } catch (IllegalArgumentException e) {
                throw new ScsiFormatException("READ FULL STATUS: " + e.getMessage());
            }
            out.add(new Registrant(key, holder, t, (flags & 0x02) != 0, port,
                    transportId(d, id, id + (int) idLength)));
            at = id + (int) idLength;
        }
        return new FullStatus(generation, out);
    }

    /** An iSCSI TransportID's name (format 0 or 1: header, length, name[,i,0x,ISID]); other protocols in hex. */
    private static String transportId(ByteBuf d, int from, int to) {
        if (to - from >= 4 && (Bytes.u8(d, from) & 0x0f) == PROTOCOL_ISCSI) {
            int n = Math.min(to, from + 4 + Bytes.u16(d, from + 2));
            String s = Bytes.ascii(d, from + 4, n);
            int nul = s.indexOf('\0');
            return nul < 0 ? s : s.substring(0, nul);
        }
        return Bytes.hex(Bytes.copy(d, from, to - from));
    }

    public static Capabilities capabilities(ByteBuf d) {
        Bytes.require(d, 6, "REPORT CAPABILITIES");
        int flags = Bytes.u8(d, 2);
        boolean typeMaskValid = (Bytes.u8(d, 3) & 0x80) != 0;
        Set<ReservationType> types = EnumSet.allOf(ReservationType.class);
        if (typeMaskValid) {
            int mask = Bytes.u16(d, 4);
            types.removeIf(t -> (mask & typeBit(t)) == 0);
        }
        return new Capabilities(types, (flags & 0x10) != 0, (flags & 0x08) != 0, (flags & 0x04) != 0,
                (flags & 0x01) != 0);
    }

    /** The type's bit in the 16-bit PERSISTENT RESERVATION TYPE MASK (byte 4 high, byte 5 low). */
    private static int typeBit(ReservationType t) {
        switch (t) {
            case WRITE_EXCLUSIVE_ALL_REGISTRANTS: return 0x8000;
            case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: return 0x4000;
            case WRITE_EXCLUSIVE_REGISTRANTS_ONLY: return 0x2000;
            case EXCLUSIVE_ACCESS: return 0x0800;
            case WRITE_EXCLUSIVE: return 0x0200;
            default: return 0x0001; // EXCLUSIVE_ACCESS_ALL_REGISTRANTS
        }
    }
}
