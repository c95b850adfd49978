package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrConfig reports an invalid source or processing configuration.
var ErrConfig = errors.New("ingest: invalid config")

// strictJSON decodes a config object, rejecting unknown fields.
func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

func errorsIsConfig(err error) bool { return errors.Is(err, ErrConfig) }
