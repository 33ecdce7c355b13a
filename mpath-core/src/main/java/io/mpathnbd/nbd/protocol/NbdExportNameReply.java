package io.mpathnbd.nbd.protocol;

/**
 * The server's answer to EXPORT_NAME: u64 size, u16 transmission flags, then 124 zero bytes unless both sides agreed
 * on NO_ZEROES.
 */
public record NbdExportNameReply(long size, int transmissionFlags, boolean noZeroes) {
}
