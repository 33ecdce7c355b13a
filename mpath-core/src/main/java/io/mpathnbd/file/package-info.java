/**
 * The local transport: a path to a file or block device, served by a small pool of I/O threads per path.
 */
package io.mpathnbd.file;
