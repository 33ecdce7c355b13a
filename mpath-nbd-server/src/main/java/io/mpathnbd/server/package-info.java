/**
 * The gateway process: builds the event loops, exports, front end and admin server from a configuration and
 * runs them until shutdown.
 */
package io.mpathnbd.server;
