/**
 * The iSCSI initiator session over one TCP connection: login and negotiation, CHAP, the task table, NOP
 * keepalive, task abort escalation and SendTargets discovery.
 */
package io.mpathnbd.iscsi.session;
