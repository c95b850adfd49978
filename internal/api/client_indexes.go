package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/whet-dev/whet/internal/rag"
)

// CreateIndex creates a retrieval index in a project; without an embedding
// model the index is BM25-only.
func (c *Client) CreateIndex(ctx context.Context, projectID string, spec rag.IndexSpec) (rag.IndexInfo, error) {
	var out rag.IndexInfo
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/indexes", spec, &out)
	return out, err
}

// GetIndex returns an index with its statistics and freshness.
func (c *Client) GetIndex(ctx context.Context, indexID string) (rag.IndexInfo, error) {
	var out rag.IndexInfo
	err := c.Do(ctx, http.MethodGet, "/v1/indexes/"+url.PathEscape(indexID), nil, &out)
	return out, err
}

// ListIndexes returns a project's indexes.
func (c *Client) ListIndexes(ctx context.Context, projectID string) (Page[rag.IndexInfo], error) {
	var out Page[rag.IndexInfo]
	err := c.Do(ctx, http.MethodGet, "/v1/projects/"+url.PathEscape(projectID)+"/indexes", nil, &out)
	return out, err
}

// UpsertIndex queues an upsert of a dataset version or of documents and
// returns the job; follow it with the job endpoints.
func (c *Client) UpsertIndex(ctx context.Context, indexID string, in IndexUpsert) (JobAccepted, error) {
	var out JobAccepted
	err := c.Do(ctx, http.MethodPost, "/v1/indexes/"+url.PathEscape(indexID)+"/upsert", in, &out)
	return out, err
}

// SearchIndex runs a search on an index.
func (c *Client) SearchIndex(ctx context.Context, indexID string, in SearchRequest) (SearchResponse, error) {
	var out SearchResponse
	err := c.Do(ctx, http.MethodPost, "/v1/indexes/"+url.PathEscape(indexID)+"/search", in, &out)
	return out, err
}
