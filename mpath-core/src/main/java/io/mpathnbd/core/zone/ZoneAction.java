package io.mpathnbd.core.zone;

/** Zone management actions, with their ZBC OUT (0x94) service actions. */
public enum ZoneAction {
    CLOSE(0x01),
    FINISH(0x02),
    OPEN(0x03),
    RESET(0x04);

    private final int zbcServiceAction;

    ZoneAction(int zbcServiceAction) {
        this.zbcServiceAction = zbcServiceAction;
    }

    public int zbcServiceAction() {
        return zbcServiceAction;
    }

    /** The action with this ZBC OUT service action; {@link IllegalArgumentException} for others. */
    public static ZoneAction ofZbcServiceAction(int sa) {
        for (ZoneAction a : values()) {
            if (a.zbcServiceAction == sa) {
                return a;
            }
        }
        throw new IllegalArgumentException("no zone action has ZBC OUT service action " + sa);
    }
}
