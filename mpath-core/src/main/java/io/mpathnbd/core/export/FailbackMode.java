package io.mpathnbd.core.export;

/** What happens when a failed path comes back. */
public enum FailbackMode {
    IMMEDIATE,
    MANUAL
}
