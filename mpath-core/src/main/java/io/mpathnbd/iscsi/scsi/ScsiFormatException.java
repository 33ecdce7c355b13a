package io.mpathnbd.iscsi.scsi;

/** SCSI response or sense bytes too short or malformed to parse: the target sent something we cannot trust. */
public class ScsiFormatException extends IllegalArgumentException {
    public ScsiFormatException(String message) {
        super(message);
    }
}
