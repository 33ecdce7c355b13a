package io.mpathnbd.nbd.protocol;

/** The client's answer to the greeting: u32 client flags. */
public record NbdClientFlags(int flags) {
}
