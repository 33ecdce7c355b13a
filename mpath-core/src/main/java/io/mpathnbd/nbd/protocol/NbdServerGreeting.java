package io.mpathnbd.nbd.protocol;

/** The server's opening: NBDMAGIC, IHAVEOPT, u16 handshake flags. */
public record NbdServerGreeting(int handshakeFlags) {
}
