package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The top-level {@code busy-poll} key and the {@code --busy-poll} flag: values, limits and messages. */
class BusyPollConfigTest {

    private static final String EXPORT = """
            exports:
              - name: disk0
                paths: [file:/a]
            """;

    private static Duration busyPoll(String value) {
        return GatewayConfig.parse("busy-poll: " + value + "\n" + EXPORT).busyPoll();
    }

    private static void error(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml + EXPORT));
        assertEquals(message, e.getMessage());
    }

    @Test
    void offUnlessConfigured() {
        assertEquals(Duration.ZERO, GatewayConfig.parse(EXPORT).busyPoll());
        assertEquals(Duration.ZERO, GatewayConfig.inline(null, null, java.util.List.of("d=file:/x"), null).busyPoll());
    }

    @Test
    void microsecondsUpToOneMillisecond() {
        assertEquals(Duration.ofNanos(50_000), busyPoll("50us"));
        assertEquals(Duration.ofNanos(50_000), busyPoll("50 US"));
        assertEquals(Duration.ofMillis(1), busyPoll("1ms"));
        assertEquals(Duration.ofMillis(1), busyPoll("1000us"));
        assertEquals(Duration.ZERO, busyPoll("0"));
        assertEquals(Duration.ZERO, busyPoll("0us"));
    }

    @Test
    void badValuesNameTheKey() {
        error("busy-poll: 50\n", "busy-poll: '50' has no unit (use e.g. 50us, 1ms)");
        error("busy-poll: fast\n", "busy-poll: 'fast' is not a duration (use e.g. 50us, 1ms)");
        error("busy-poll: -5us\n", "busy-poll: '-5us' is not a duration (use e.g. 50us, 1ms)");
        error("busy-poll: 2ms\n", "busy-poll: '2ms' is too large (at most 1ms)");
        error("busy-poll: 1001us\n", "busy-poll: '1001us' is too large (at most 1ms)");
        error("busy-poll: 99999999999999999999us\n", "busy-poll: '99999999999999999999us' is too large");
        error("busy-poll: [50us]\n", "busy-poll: expected a single value, got a list");
        error("busy_poll: 50us\n", "unknown key 'busy_poll' at the top level (did you mean 'busy-poll'?)");
    }

    @Test
    void itIsAGatewaySettingNotAnExportOne() {
        error("defaults:\n  busy-poll: 50us\n",
                "unknown key 'busy-poll' at defaults (it is a setting of the whole gateway: put it at the top level)");
    }

    @Test
    void otherDurationsStayInMilliseconds() {
        error("defaults:\n  fence-delay: 500us\n",
                "defaults.fence-delay: '500us': microseconds are not accepted here (use e.g. 100ms, 5s, 2m)");
    }

    @Test
    void theFlagOverridesTheFile() {
        GatewayConfig file = GatewayConfig.parse("busy-poll: 20us\n" + EXPORT);
        assertSame(file, file.withBusyPoll(null));
        assertEquals(Duration.ofNanos(80_000), file.withBusyPoll("80us").busyPoll());
        assertEquals(Duration.ZERO, file.withBusyPoll("0").busyPoll());
        assertEquals(file.exports(), file.withBusyPoll("80us").exports());
        ConfigException e = assertThrows(ConfigException.class, () -> file.withBusyPoll("5ms"));
        assertEquals("--busy-poll: '5ms' is too large (at most 1ms)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> file.withBusyPoll("50"));
        assertEquals("--busy-poll: '50' is not a duration (use e.g. 50us, 1ms)", e.getMessage());
    }

    @Test
    void microsecondsAreFormattedAsWritten() {
        assertEquals("50us", Units.format(Duration.ofNanos(50_000)));
        assertEquals("1500us", Units.format(Duration.ofNanos(1_500_000)));
        assertEquals("1ms", Units.format(Duration.ofMillis(1)));
        assertEquals("2s", Units.format(Duration.ofSeconds(2)));
        assertEquals("0", Units.format(Duration.ZERO));
    }
}
