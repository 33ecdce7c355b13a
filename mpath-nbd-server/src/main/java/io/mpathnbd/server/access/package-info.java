/**
 * Who may attach to which export: client networks, TLS client certificate subjects and read-only grants, checked by
 * the front end at handshake time.
 */
package io.mpathnbd.server.access;
