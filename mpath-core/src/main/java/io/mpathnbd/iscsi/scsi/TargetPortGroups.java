package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * REPORT TARGET PORT GROUPS parameter data (SPC-4 6.36), length-only or extended header. A group descriptor cut off
 * by the allocation length is dropped (a partial port list would misplace ports); compare
 * {@link #declaredLength(ByteBuf)} with the allocation length and ask again when it was too small.
 */
public record TargetPortGroups(List<PortGroup> groups, int implicitTransitionSeconds) {

    private static final int HEADER = 4;
    private static final int EXTENDED_HEADER = 8;
    private static final int GROUP_HEADER = 8;
    private static final int PORT = 4;
    private static final int FORMAT_MASK = 0x70;
    private static final int FORMAT_EXTENDED = 0x10;

    public TargetPortGroups {
        groups = List.copyOf(groups);
    }

    public TargetPortGroups(List<PortGroup> groups) {
        this(groups, 0);
    }

    /** Total bytes of the response as the target declares it (RETURN DATA LENGTH plus its own 4 bytes). */
    public static long declaredLength(ByteBuf data) {
        Bytes.require(data, HEADER, "REPORT TARGET PORT GROUPS data");
        return HEADER + Bytes.u32(data, 0);
    }

    public static TargetPortGroups parse(ByteBuf data) {
        int end = Bytes.usable(data, declaredLength(data));
        int at = HEADER;
        int transition = 0;
        // Reserved bits of a length-only first descriptor are zero, so the format field cannot be mistaken.
        if (end >= EXTENDED_HEADER && (Bytes.u8(data, 4) & FORMAT_MASK) == FORMAT_EXTENDED) {
            transition = Bytes.u8(data, 5);
            at = EXTENDED_HEADER;
        }
        List<PortGroup> groups = new ArrayList<>();
        while (at + GROUP_HEADER <= end) {
            int ports = Bytes.u8(data, at + 7);
            if (at + GROUP_HEADER + ports * PORT > end) {
                break;
            }
            List<Integer> relative = new ArrayList<>(ports);
            for (int i = 0; i < ports; i++) {
                relative.add(Bytes.u16(data, at + GROUP_HEADER + i * PORT + 2));
            }
            int b0 = Bytes.u8(data, at);
            groups.add(new PortGroup(Bytes.u16(data, at + 2), b0 & 0x0f, (b0 & 0x80) != 0, Bytes.u8(data, at + 1),
                    relative));
            at += GROUP_HEADER + ports * PORT;
        }
        return new TargetPortGroups(groups, transition);
    }

    public Optional<PortGroup> groupOf(int relativePort) {
        for (PortGroup g : groups) {
            if (g.relativePorts().contains(relativePort)) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    /** A target port group descriptor. {@code supported}: the T_SUP..AO_SUP bits of byte 1, raw. */
    public record PortGroup(int id, int aluaState, boolean preferred, int supported, List<Integer> relativePorts) {
        public static final int SUPPORTS_TRANSITIONING = 0x80;
        public static final int SUPPORTS_OFFLINE = 0x40;
        public static final int SUPPORTS_LBA_DEPENDENT = 0x10;
        public static final int SUPPORTS_UNAVAILABLE = 0x08;
        public static final int SUPPORTS_STANDBY = 0x04;
        public static final int SUPPORTS_NON_OPTIMIZED = 0x02;
        public static final int SUPPORTS_OPTIMIZED = 0x01;

        public PortGroup {
            relativePorts = List.copyOf(relativePorts);
        }

        public io.mpathnbd.core.backend.AccessState accessState() {
            return Alua.toAccessState(aluaState);
        }
    }
}
