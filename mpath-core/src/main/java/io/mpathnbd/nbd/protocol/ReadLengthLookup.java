package io.mpathnbd.nbd.protocol;

/**
 * Tells {@link NbdReplyDecoder} how many data bytes follow a successful simple reply: simple replies carry no length,
 * so only the sender of the request knows.
 */
@FunctionalInterface
public interface ReadLengthLookup {
    /** The READ length for a pending READ, 0 for a pending request of any other type, -1 for an unknown cookie. */
    int expectedReadLength(long cookie);
}
