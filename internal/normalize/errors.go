package normalize

import "errors"

// ErrInvalidFilters is returned by [Filters.Validate] for a configuration
// that cannot be applied.
var ErrInvalidFilters = errors.New("normalize: invalid filters")
