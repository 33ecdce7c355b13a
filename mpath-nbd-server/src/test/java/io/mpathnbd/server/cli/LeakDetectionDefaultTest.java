package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The process turns Netty's leak detection off by default, but never overrides a level the operator chose. */
class LeakDetectionDefaultTest {
    private static final String LEVEL = "io.netty.leakDetection.level";
    private static final String OLD_LEVEL = "io.netty.leakDetectionLevel";
    private String savedLevel;
    private String savedOldLevel;

    @BeforeEach
    void save() {
        savedLevel = System.getProperty(LEVEL);
        savedOldLevel = System.getProperty(OLD_LEVEL);
    }

    @AfterEach
    void restore() {
        set(LEVEL, savedLevel);
        set(OLD_LEVEL, savedOldLevel);
    }

    @Test
    void offWhenUnset() {
        System.clearProperty(LEVEL);
        System.clearProperty(OLD_LEVEL);
        Main.defaultLeakDetectionOff();
        assertEquals("disabled", System.getProperty(LEVEL));
    }

    @Test
    void operatorLevelKept() {
        System.setProperty(LEVEL, "paranoid");
        Main.defaultLeakDetectionOff();
        assertEquals("paranoid", System.getProperty(LEVEL));
    }

    @Test
    void legacyPropertyKept() {
        System.clearProperty(LEVEL);
        System.setProperty(OLD_LEVEL, "advanced");
        Main.defaultLeakDetectionOff();
        assertEquals(null, System.getProperty(LEVEL));
        assertEquals("advanced", System.getProperty(OLD_LEVEL));
    }

    private static void set(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
