/**
 * Small duration helpers shared by the core and the transports.
 */
package io.mpathnbd.core.time;
