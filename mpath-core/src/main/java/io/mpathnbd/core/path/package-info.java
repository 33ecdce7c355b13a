/**
 * One path of an export: its connection state machine, reconnect backoff, health probes, access state and
 * request counters. The only place where a path's state changes.
 */
package io.mpathnbd.core.path;
