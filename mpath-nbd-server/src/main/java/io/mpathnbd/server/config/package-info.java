/**
 * The configuration: YAML and command-line input read into immutable, validated records, with every error
 * naming its key.
 */
package io.mpathnbd.server.config;
