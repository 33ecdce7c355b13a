package io.mpathnbd.server.access;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network in CIDR form ({@code 10.0.0.0/8}, {@code fd00::/8}); a bare address is a network of one
 * ({@code /32}, {@code /128}). IPv4 networks never match IPv6 clients and the other way round, except that an
 * IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}, what a dual-stack socket may report) counts as IPv4.
 */
public final class Network {
    private final byte[] prefix;
    private final int bits;

    private Network(byte[] prefix, int bits) {
        this.prefix = prefix;
        this.bits = bits;
    }

    /**
     * Parses a literal address with an optional {@code /bits}; never looks up a host name.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    public static Network parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        // NetUtil parses literals only; a zone id (fe80::1%eth0) means nothing for a remote client
        byte[] bytes = address.indexOf('%') >= 0 ? null : NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address or network"
                    + " (expected e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8; host names are not accepted)");
        }
        bytes = unmapped(bytes);
        int max = bytes.length * 8;
        int bits = max;
        if (slash >= 0) {
            String b = t.substring(slash + 1);
            if (!b.matches("[0-9]{1,3}")) {
                throw new IllegalArgumentException("'" + text + "': the prefix length '" + b
                        + "' is not a number from 0 to " + max);
            }
            bits = Integer.parseInt(b);
            if (bits > max) {
                throw new IllegalArgumentException("'" + text + "': prefix length " + bits + " is too long for an "
                        + (max == 32 ? "IPv4" : "IPv6") + " address (at most " + max + ")");
            }
        }
        byte[] masked = mask(bytes, bits);
        if (!Arrays.equals(masked, bytes)) {
            // most likely a typo for the host's own network or for the address alone: say which was meant
            throw new IllegalArgumentException("'" + text + "' has address bits set beyond the /" + bits
                    + " prefix (the network is " + NetUtil.bytesToIpAddress(masked) + "/" + bits
                    + "; for this one address write " + address + ")");
        }
        return new Network(bytes, bits);
    }

    /** Whether {@code address} lies in this network. */
    public boolean contains(InetAddress address) {
        byte[] a = unmapped(address.getAddress());
        return a.length == prefix.length && Arrays.equals(mask(a, bits), prefix);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Network n && n.bits == bits && Arrays.equals(n.prefix, prefix);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(prefix) + bits;
    }

    /** The CIDR form, e.g. {@code 10.0.0.0/8}. */
    @Override
    public String toString() {
        return NetUtil.bytesToIpAddress(prefix) + "/" + bits;
    }

    private static byte[] mask(byte[] address, int bits) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - 8 * i));
            out[i] &= (byte) (0xff00 >>> keep);
        }
        return out;
    }

    /** The IPv4 address inside an IPv4-mapped IPv6 one; other addresses unchanged. */
    static byte[] unmapped(byte[] address) {
        if (address.length != 16) {
            return address;
        }
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return address;
            }
        }
        if (address[10] != (byte) 0xff || address[11] != (byte) 0xff) {
            return address;
        }
        return Arrays.copyOfRange(address, 12, 16);
    }
}
