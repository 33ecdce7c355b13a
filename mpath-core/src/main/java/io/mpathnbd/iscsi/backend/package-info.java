/**
 * The iSCSI transport: a path to one logical unit through one portal, attached with INQUIRY, VPD pages and
 * READ CAPACITY, with its options and URI syntax.
 */
package io.mpathnbd.iscsi.backend;
