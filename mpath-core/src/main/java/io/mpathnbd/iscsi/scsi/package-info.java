/**
 * SCSI block commands and their answers (CDBs, sense data, VPD pages, capacity, ALUA port groups) and the
 * classification of SCSI outcomes into path and target errors.
 */
package io.mpathnbd.iscsi.scsi;
