package io.mpathnbd.testing.leak;

/**
 * One leak Netty's detector reported: a resource that was garbage collected without being released.
 *
 * @param resourceType the leaked resource's type, e.g. "ByteBuf"
 * @param records      the access records Netty kept (creation and touch points); empty when untraced
 */
public record LeakRecord(String resourceType, String records) {

    @Override
    public String toString() {
        return records.isEmpty()
                ? "LEAK: " + resourceType + " (no access records)"
                : "LEAK: " + resourceType + records;
    }
}
