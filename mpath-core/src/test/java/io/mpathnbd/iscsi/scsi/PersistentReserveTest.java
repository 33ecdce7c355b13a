package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.netty.buffer.Unpooled;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The PR CDBs and parameter list byte for byte, and PR IN data as SPC-4 lays it out (cut short too). */
class PersistentReserveTest {

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void cdbsAndParameters() {
        assertArrayEquals(bytes(0x5E, 0x01, 0, 0, 0, 0, 0, 0x00, 0x18, 0), PersistentReserve.in(1, 24));
        assertArrayEquals(bytes(0x5F, 0x04, 0x05, 0, 0, 0, 0, 0, 24, 0),
                PersistentReserve.out(PersistentReserve.PREEMPT, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY));
        assertArrayEquals(bytes(0x5F, 0x06, 0, 0, 0, 0, 0, 0, 24, 0),
                PersistentReserve.out(PersistentReserve.REGISTER_AND_IGNORE_EXISTING_KEY, null));
        byte[] p = PersistentReserve.parameters(0x0102030405060708L, -1L);
        assertEquals(24, p.length);
        assertArrayEquals(bytes(1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0, 0, 0, 0, 0, 0, 0, 0), p);
    }

    @Test
    void registerFlagsGoToByte20() {
        assertEquals(0x01, PersistentReserve.parameters(1, 2, new ReservationOps.RegisterFlags(true, false))[20]);
        assertEquals(0x04, PersistentReserve.parameters(1, 2, new ReservationOps.RegisterFlags(false, true))[20]);
        assertEquals(0x05, PersistentReserve.parameters(1, 2, new ReservationOps.RegisterFlags(true, true))[20]);
        assertEquals(0, PersistentReserve.parameters(1, 2)[20]);
    }

    /** One READ FULL STATUS descriptor with an iSCSI TransportID (format 0, name padded to a multiple of 4). */
    private static byte[] descriptor(long key, int flags, int scopeType, int port, String name) {
        int nameLength = (name.length() + 1 + 3) / 4 * 4;
        byte[] d = new byte[24 + 4 + nameLength];
        for (int i = 0; i < 8; i++) {
            d[i] = (byte) (key >>> (56 - 8 * i));
        }
        d[12] = (byte) flags;
        d[13] = (byte) scopeType;
        d[18] = (byte) (port >>> 8);
        d[19] = (byte) port;
        d[23] = (byte) (4 + nameLength);
        d[24] = 0x05; // format 0, protocol iSCSI
        d[27] = (byte) nameLength;
        byte[] n = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, d, 28, n.length);
        return d;
    }

    @Test
    void fullStatusDescriptorsAndACutShortOne() {
        byte[] a = descriptor(0xA1, 0x01, 0x05, 1, "iqn.2026-12.io.mpathnbd:gw");
        byte[] b = descriptor(0xB1, 0x02, 0, 0, "iqn.2026-12.io.mpathnbd:other");
        byte[] d = new byte[8 + a.length + b.length];
        d[3] = 7;
        d[7] = (byte) (a.length + b.length);
        System.arraycopy(a, 0, d, 8, a.length);
        System.arraycopy(b, 0, d, 8 + a.length, b.length);
        ReservationOps.FullStatus f = PersistentReserve.fullStatus(Unpooled.wrappedBuffer(d));
        assertEquals(7, f.generation());
        assertEquals(List.of(
                new ReservationOps.Registrant(0xA1, true, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, false, 1,
                        "iqn.2026-12.io.mpathnbd:gw"),
                new ReservationOps.Registrant(0xB1, false, null, true, 0, "iqn.2026-12.io.mpathnbd:other")),
                f.registrants());
        byte[] cut = java.util.Arrays.copyOf(d, d.length - 3); // the second descriptor no longer fits
        assertEquals(1, PersistentReserve.fullStatus(Unpooled.wrappedBuffer(cut)).registrants().size());
    }

    @Test
    void keysGenerationAndATruncatedList() {
        byte[] d = bytes(0, 0, 0, 9, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0xA, 0xff, 0, 0, 0, 0, 0, 0, 0xB, 0, 0, 0);
        ReservationOps.Keys k = PersistentReserve.keys(Unpooled.wrappedBuffer(d)); // third key cut short
        assertEquals(9, k.generation());
        assertEquals(List.of(0xAL, 0xff0000000000000BL), k.keys());
        assertThrows(ScsiFormatException.class,
                () -> PersistentReserve.keys(Unpooled.wrappedBuffer(bytes(0, 0, 0, 1, 0, 0, 0, 7))));
    }

    @Test
    void reservationHeldOrNot() {
        assertNull(PersistentReserve.reservation(Unpooled.wrappedBuffer(bytes(0, 0, 0, 3, 0, 0, 0, 0))).holder());
        byte[] d = new byte[24];
        d[7] = 16;
        d[15] = 0x42;
        d[21] = 0x05; // scope LU, type WE_RO
        ReservationOps.Status s = PersistentReserve.reservation(Unpooled.wrappedBuffer(d));
        assertEquals(new ReservationOps.Holder(0x42, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY), s.holder());
        d[21] = 0x02; // obsolete type code
        assertThrows(ScsiFormatException.class, () -> PersistentReserve.reservation(Unpooled.wrappedBuffer(d)));
    }

    @Test
    void capabilitiesWithAndWithoutATypeMask() {
        ReservationOps.Capabilities c = PersistentReserve.capabilities(
                Unpooled.wrappedBuffer(bytes(0, 8, 0x11, 0x80, 0x22, 0x00, 0, 0)));
        assertEquals(EnumSet.of(ReservationType.WRITE_EXCLUSIVE, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
                c.types());
        assertTrue(c.compatibleReservationHandling() && c.persistThroughPowerLoss());
        assertFalse(c.specifyInitiatorPorts() || c.allTargetPorts());
        ReservationOps.Capabilities all = PersistentReserve.capabilities(
                Unpooled.wrappedBuffer(bytes(0, 8, 0, 0, 0, 0, 0, 0)));
        assertEquals(EnumSet.allOf(ReservationType.class), all.types(), "TMV 0: the disk does not say");
    }
}
