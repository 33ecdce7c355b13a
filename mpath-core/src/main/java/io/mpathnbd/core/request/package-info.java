/**
 * The request model at the bottom of the core: a block request, its operation and flags, errno values, and the sink
 * its one answer goes to. Depends on nothing else of the project.
 */
package io.mpathnbd.core.request;
