/**
 * NBD wire types and the Netty codecs for both directions (handshake, requests, simple and structured
 * replies), shared by the gateway's front end and the NBD backend transport.
 */
package io.mpathnbd.nbd.protocol;
