package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
)

// CreateDataset creates a dataset in a project.
func (c *Client) CreateDataset(ctx context.Context, projectID string, in DatasetCreate) (dataset.Dataset, error) {
	var out dataset.Dataset
	err := c.Do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(projectID)+"/datasets", in, &out)
	return out, err
}

// ListDatasets returns one page of a project's datasets.
func (c *Client) ListDatasets(ctx context.Context, projectID string, limit int, cursor string) (Page[dataset.Dataset], error) {
	var out Page[dataset.Dataset]
	err := c.Do(ctx, http.MethodGet, pageQuery("/v1/projects/"+url.PathEscape(projectID)+"/datasets", limit, cursor, nil), nil, &out)
	return out, err
}

// UploadFile is one file of an upload: a name and its content.
type UploadFile struct {
	Name string
	Body io.Reader
}

// Upload sends files (or .zip/.tar.gz archives) to a dataset as one
// multipart request, streaming them, and returns the ingestion job.
func (c *Client) Upload(ctx context.Context, datasetID, accessTag string, files []UploadFile) (JobAccepted, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range files {
			w, err := mw.CreateFormFile("files", f.Name)
			if err == nil {
				_, err = io.Copy(w, f.Body)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	path := "/v1/datasets/" + url.PathEscape(datasetID) + "/documents/upload"
	if accessTag != "" {
		path += "?access_tag=" + url.QueryEscape(accessTag)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, pr)
	if err != nil {
		return JobAccepted{}, fmt.Errorf("api client: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	var out JobAccepted
	resp, err := c.Send(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	return out, decodeJSON(resp.Body, &out)
}

// RegisterSource registers an ingestion source on a dataset.
func (c *Client) RegisterSource(ctx context.Context, datasetID string, in ingest.SourceSpec) (ingest.SourceRecord, error) {
	var out ingest.SourceRecord
	err := c.Do(ctx, http.MethodPost, "/v1/datasets/"+url.PathEscape(datasetID)+"/ingest/sources", in, &out)
	return out, err
}

// SyncSource queues a sync of a registered source.
func (c *Client) SyncSource(ctx context.Context, sourceID string) (JobAccepted, error) {
	var out JobAccepted
	err := c.Do(ctx, http.MethodPost, "/v1/sources/"+url.PathEscape(sourceID)+"/sync", nil, &out)
	return out, err
}

// ProcessDataset queues processing of a dataset into a new version.
func (c *Client) ProcessDataset(ctx context.Context, datasetID string, cfg ingest.ProcessConfig) (JobAccepted, error) {
	var out JobAccepted
	err := c.Do(ctx, http.MethodPost, "/v1/datasets/"+url.PathEscape(datasetID)+"/process", cfg, &out)
	return out, err
}

// ListDatasetVersions returns a dataset's versions, newest first.
func (c *Client) ListDatasetVersions(ctx context.Context, datasetID string) ([]dataset.Version, error) {
	var out Page[dataset.Version]
	err := c.Do(ctx, http.MethodGet, "/v1/datasets/"+url.PathEscape(datasetID)+"/versions", nil, &out)
	return out.Items, err
}

// DatasetVersion returns a version (semver, lineage hash or "latest") with
// its manifest.
func (c *Client) DatasetVersion(ctx context.Context, datasetID, ref string) (VersionDetail, error) {
	var out VersionDetail
	err := c.Do(ctx, http.MethodGet, "/v1/datasets/"+url.PathEscape(datasetID)+"/versions/"+url.PathEscape(ref), nil, &out)
	return out, err
}

// ExportDataset streams a version's JSONL into w.
func (c *Client) ExportDataset(ctx context.Context, datasetID, ref string, w io.Writer) error {
	return c.stream(ctx, "/v1/datasets/"+url.PathEscape(datasetID)+"/versions/"+url.PathEscape(ref)+"/export", w)
}

// DatasetCard streams a version's Markdown card into w.
func (c *Client) DatasetCard(ctx context.Context, datasetID, ref string, w io.Writer) error {
	return c.stream(ctx, "/v1/datasets/"+url.PathEscape(datasetID)+"/versions/"+url.PathEscape(ref)+"/card", w)
}

func (c *Client) stream(ctx context.Context, path string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	resp, err := c.Send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

func decodeJSON(r io.Reader, out any) error {
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("api client: decode: %w", err)
	}
	return nil
}
