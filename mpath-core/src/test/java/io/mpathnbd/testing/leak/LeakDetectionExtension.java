package io.mpathnbd.testing.leak;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer (or other tracked resource) by the end of it.
 *
 * <p>Registered for every test through {@code META-INF/services/org.junit.jupiter.api.extension.Extension} with
 * {@code junit.jupiter.extensions.autodetection.enabled=true}. JUnit loads it before any test class runs, and
 * loading it installs the recording leak detector, so it is in place before Netty allocates its first buffer.
 */
public final class LeakDetectionExtension implements AfterAllCallback {

    static {
        LeakDetection.install();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        LeakDetection.assertNoLeaks(context.getRequiredTestClass().getName());
    }
}
