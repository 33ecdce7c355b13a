/**
 * The zoned block device model, transport-neutral: zone types and conditions with their ZBC codes, the zone
 * record, the device model, the zone errors, and {@link io.mpathnbd.core.zone.HostManagedZones}, the ZBC
 * host-managed state machine that emulated zoned disks answer from. Offsets and lengths are bytes, as everywhere in
 * the core. It names nothing else of the core, so the backend SPI and the transports can all use it.
 */
package io.mpathnbd.core.zone;
