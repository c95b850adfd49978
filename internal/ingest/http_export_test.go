package ingest

import (
	"context"
	"time"
)

// SetRestSleep replaces the backoff sleep of an http, sharepoint or gdrive
// connector, so tests see the waits without waiting.
func SetRestSleep(c Connector, f func(ctx context.Context, d time.Duration) error) {
	switch x := c.(type) {
	case *httpConnector:
		x.rest.sleep = f
	case *gdriveConnector:
		x.rest.sleep = f
	case *sharePointConnector:
		x.rest.sleep, x.anon.sleep = f, f
	}
}
