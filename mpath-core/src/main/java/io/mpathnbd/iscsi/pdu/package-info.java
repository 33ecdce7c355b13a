/**
 * iSCSI PDUs and their Netty codec, with header and data digests: the lowest layer of the iSCSI initiator.
 */
package io.mpathnbd.iscsi.pdu;
