/**
 * The observer hook through which the process (metrics, logs) watches exports and paths without the core
 * depending on it.
 */
package io.mpathnbd.core.observe;
