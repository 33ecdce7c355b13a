/**
 * Buffer handling shared by the wire codecs: payloads gathered as slices of receive buffers, so that a large
 * payload is never copied into one growing cumulation.
 */
package io.mpathnbd.core.buffer;
