package ingest

import "errors"

// ErrConfig reports an invalid source or processing configuration.
var ErrConfig = errors.New("ingest: invalid config")
