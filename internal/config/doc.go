// Package config owns whet's server configuration: the defaults, an
// optional YAML file, WHET_* environment variables and command-line flags,
// applied in that order, then Validate. It is the only package that reads
// the environment, and only from the slice the CLI hands it. Print shows the
// effective configuration with secrets masked.
package config
