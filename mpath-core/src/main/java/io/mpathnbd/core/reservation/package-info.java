/**
 * Persistent reservations of a whole export, spread over its paths as mpathpersist spreads them over
 * dm-multipath's: our key registered on every path before it carries I/O, RESERVE, PREEMPT and CLEAR through one
 * path, RELEASE on every path. Above the export: it uses only the export's public face and its
 * {@link io.mpathnbd.core.export.ControlSpread}.
 */
package io.mpathnbd.core.reservation;
