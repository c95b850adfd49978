package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
)

// Item is one document a connector found: a file, an object, an API record
// or a database row.
type Item struct {
	Key         string    // stable identity within the source (path, object key, row id, URL)
	URI         string    // where it lives, for citations (defaults to Key)
	Size        int64     // bytes, or -1 when unknown
	ModTime     time.Time // last change, when known
	ContentType string    // declared content type, when known
	Deleted     bool      // the source reports the item deleted (delta APIs)
	Unchanged   bool      // present but unchanged since the cursor: counted as seen, not read
	// Open returns the item's content. For rows and API records it is the
	// JSON or text the connector built.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Connector reads one registered source. Sync reports the items that
// changed since cursor (all of them when cursor is empty) through emit, and
// returns the cursor to store for the next sync. full says the listing was
// complete, so keys not emitted have been deleted; delta connectors report
// deletions with Item.Deleted instead and return full=false.
type Connector interface {
	Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (next json.RawMessage, full bool, err error)
}

// ConnectorFactory builds a connector from a source's JSON config and its
// resolved secrets.
type ConnectorFactory func(config json.RawMessage, secrets Secrets) (Connector, error)

// Secrets resolves a source's secret references ("env:NAME", "file:PATH"
// or a value stored encrypted) to their values at sync time.
type Secrets func(name string) (string, error)

var (
	connMu     sync.RWMutex
	connectors = map[string]ConnectorFactory{}
)

// RegisterConnector makes a source type available. It panics on a
// duplicate: connectors are registered once, at init, by the package that
// implements them.
func RegisterConnector(typ string, f ConnectorFactory) {
	connMu.Lock()
	defer connMu.Unlock()
	if _, dup := connectors[typ]; dup {
		panic("ingest: connector " + typ + " registered twice")
	}
	connectors[typ] = f
}

// ConnectorTypes lists the registered source types.
func ConnectorTypes() []string {
	connMu.RLock()
	defer connMu.RUnlock()
	out := make([]string, 0, len(connectors))
	for t := range connectors {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// NewConnector builds a connector of a registered type.
func NewConnector(typ string, config json.RawMessage, secrets Secrets) (Connector, error) {
	connMu.RLock()
	f, ok := connectors[typ]
	connMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: unknown source type %q (have %v)", ErrConfig, typ, ConnectorTypes())
	}
	return f(config, secrets)
}

// SyncResult is what one sync of a source did.
type SyncResult struct {
	Summary
	Tombstoned int             `json:"tombstoned"`
	Moved      int             `json:"moved"` // renamed or moved items whose document followed them
	Cursor     json.RawMessage `json:"cursor"`
}

// SyncSource runs one connector sync into the dataset: every emitted item is
// ingested (a changed one becomes a new revision, an unchanged one adds
// nothing), deletions are tombstoned, and the new cursor is returned for the
// caller to store once the batch is committed.
func (in *Ingester) SyncSource(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, c Connector, cursor json.RawMessage, progress func(done int, stage string)) (*SyncResult, error) {
	res := &SyncResult{}
	seen := map[string]bool{}
	var deleted []string
	n := 0
	next, full, err := c.Sync(ctx, cursor, func(it Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if it.Deleted {
			deleted = append(deleted, it.Key)
			return nil
		}
		if it.Unchanged {
			seen[it.Key] = true
			res.Unchanged++
			return nil
		}
		n++
		rc, err := it.Open(ctx)
		if err != nil {
			res.Add(FileResult{Name: it.Key, Status: "error", Error: err.Error()})
			return nil
		}
		size := it.Size
		if size == 0 {
			size = -1
		}
		for _, r := range in.IngestFile(ctx, orgID, ds, src, it.Key, size, it.ModTime, rc) {
			res.Add(r)
			seen[r.Name] = true
		}
		rc.Close()
		seen[it.Key] = true
		if progress != nil {
			progress(n, "ingesting "+it.Key)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if src.ID != "" && (full || len(deleted) > 0) {
		// A renamed or moved item with unchanged content was reported as a
		// duplicate of its old self: move the document to the new key before
		// the old key is tombstoned.
		var moves []dataset.Move
		for _, r := range res.Results {
			if r.Status == string(dataset.Duplicate) && r.DocumentID != "" {
				moves = append(moves, dataset.Move{DocumentID: r.DocumentID, NewKey: r.Name})
			}
		}
		gone := map[string]bool{}
		for _, k := range deleted {
			gone[k] = true
		}
		moved, err := in.Datasets.MoveRenamed(ctx, ds.ID, src.ID, moves, func(old string) bool {
			return gone[old] || (full && !seen[old])
		})
		if err != nil {
			return res, err
		}
		res.Moved = moved
		res.Duplicate -= moved
	}
	if full && src.ID != "" {
		k, err := in.Datasets.Tombstone(ctx, ds.ID, src.ID, seen)
		if err != nil {
			return res, err
		}
		res.Tombstoned = k
	}
	if len(deleted) > 0 && src.ID != "" {
		k, err := in.Datasets.TombstoneKeys(ctx, ds.ID, src.ID, deleted)
		if err != nil {
			return res, err
		}
		res.Tombstoned += k
	}
	res.Cursor = next
	return res, nil
}
