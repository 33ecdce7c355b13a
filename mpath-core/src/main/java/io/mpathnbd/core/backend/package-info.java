/**
 * The transport SPI of the core: a driver per path opens sessions to one backend target, and a session carries
 * block requests and reports each outcome as success, a target error or a path failure. Transports register a
 * {@link io.mpathnbd.core.backend.DriverFactory} per URI scheme.
 */
package io.mpathnbd.core.backend;
