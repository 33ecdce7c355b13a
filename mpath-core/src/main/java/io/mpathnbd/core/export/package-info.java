/**
 * The multipath disk: an export over several paths, which dispatches each request through the iopolicy, fails
 * over and retries, holds requests while no path is usable, fences in-doubt writes and fans FLUSH out.
 */
package io.mpathnbd.core.export;
