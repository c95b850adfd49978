package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// SharePointConfig is a SharePoint document library (or OneDrive) read
// through the Microsoft Graph drive delta API.
type SharePointConfig struct {
	DriveID string `json:"drive_id,omitempty"`
	SiteID  string `json:"site_id,omitempty"` // the site's default document library, when drive_id is not set
	// Folder limits the source to one folder of the drive ("Policies/HR").
	Folder      string `json:"folder,omitempty"`
	TokenSecret string `json:"token_secret"`       // name of the secret holding an OAuth access token
	BaseURL     string `json:"base_url,omitempty"` // default https://graph.microsoft.com/v1.0
}

// Validate checks the config is complete.
func (c *SharePointConfig) Validate() error {
	if (c.DriveID == "") == (c.SiteID == "") {
		return fmt.Errorf("%w: sharepoint source needs exactly one of drive_id and site_id", ErrConfig)
	}
	if c.TokenSecret == "" {
		return fmt.Errorf("%w: sharepoint source needs token_secret", ErrConfig)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: base_url %q", ErrConfig, c.BaseURL)
		}
	}
	return nil
}

// trackedCursor is the cursor of the delta connectors: the API's own
// continuation token and, per remote item id, the key it was ingested under
// and its content tag, so deletions and renames (reported by id only) find
// their documents and unchanged content is not downloaded again.
type trackedCursor struct {
	Token string                 `json:"token,omitempty"`
	Items map[string]trackedItem `json:"items,omitempty"`
}

type trackedItem struct {
	Key string `json:"key"`
	Tag string `json:"tag,omitempty"`
}

type sharePointConnector struct {
	cfg  SharePointConfig
	rest *restClient
	anon *restClient // for pre-authenticated download URLs
}

func init() {
	RegisterConnector("sharepoint", func(config json.RawMessage, secrets Secrets) (Connector, error) {
		var cfg SharePointConfig
		if err := strictJSON(config, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if cfg.BaseURL == "" {
			cfg.BaseURL = "https://graph.microsoft.com/v1.0"
		}
		cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
		cfg.Folder = strings.Trim(cfg.Folder, "/")
		rc, err := bearerClient(cfg.TokenSecret, secrets)
		if err != nil {
			return nil, err
		}
		return &sharePointConnector{cfg: cfg, rest: rc, anon: newRestClient()}, nil
	})
}

// bearerClient is a restClient sending "Authorization: Bearer <secret>",
// the secret resolved on every request so a rotated token is picked up.
func bearerClient(secretName string, secrets Secrets) (*restClient, error) {
	if secrets == nil {
		return nil, fmt.Errorf("%w: secret %q is not set", ErrConfig, secretName)
	}
	if _, err := secrets(secretName); err != nil {
		return nil, err
	}
	rc := newRestClient()
	rc.auth = func(req *http.Request) error {
		tok, err := secrets(secretName)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	return rc, nil
}

func (c *sharePointConnector) drive() string {
	if c.cfg.DriveID != "" {
		return c.cfg.BaseURL + "/drives/" + url.PathEscape(c.cfg.DriveID)
	}
	return c.cfg.BaseURL + "/sites/" + url.PathEscape(c.cfg.SiteID) + "/drive"
}

// graphItem is the part of a Graph driveItem the connector reads.
type graphItem struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Size            int64     `json:"size"`
	ETag            string    `json:"eTag"`
	CTag            string    `json:"cTag"`
	WebURL          string    `json:"webUrl"`
	LastModified    time.Time `json:"lastModifiedDateTime"`
	DownloadURL     string    `json:"@microsoft.graph.downloadUrl"`
	ParentReference struct {
		Path string `json:"path"`
	} `json:"parentReference"`
	File *struct {
		MimeType string `json:"mimeType"`
	} `json:"file"`
	Folder  *json.RawMessage `json:"folder"`
	Deleted *json.RawMessage `json:"deleted"`
	Root    *json.RawMessage `json:"root"`
}

type graphPage struct {
	Value     []graphItem `json:"value"`
	NextLink  string      `json:"@odata.nextLink"`
	DeltaLink string      `json:"@odata.deltaLink"`
}

// Sync follows the drive's delta feed from the stored delta link (from the
// start when there is none, or when Graph answers 410 Gone for an expired
// link) to its end, and stores the new delta link. The first sync is a full
// listing; later ones report deletions item by item.
func (c *sharePointConnector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var prev trackedCursor
	if len(cursor) > 0 {
		_ = json.Unmarshal(cursor, &prev)
	}
	full := prev.Token == ""
	start := prev.Token
	if full {
		start = c.drive() + "/root/delta"
	}
	pages, err := c.collect(ctx, start)
	var se *statusError
	if err != nil && !full && errors.As(err, &se) && se.Code == http.StatusGone {
		// The delta link expired (resyncRequired): list everything again.
		full = true
		pages, err = c.collect(ctx, c.drive()+"/root/delta")
	}
	if err != nil {
		return nil, false, err
	}
	next := trackedCursor{Items: map[string]trackedItem{}}
	if !full {
		for id, ti := range prev.Items {
			next.Items[id] = ti
		}
	}
	for _, p := range pages.items {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		old, known := next.Items[p.ID]
		if p.Deleted != nil {
			if known {
				delete(next.Items, p.ID)
				if err := emit(Item{Key: old.Key, Deleted: true}); err != nil {
					return nil, false, err
				}
			}
			continue
		}
		if p.File == nil || p.Root != nil {
			continue
		}
		rel, ok := c.relPath(p)
		if !ok || strings.HasPrefix(p.Name, ".") || strings.HasPrefix(p.Name, "~$") {
			if known { // moved out of the folder
				delete(next.Items, p.ID)
				if err := emit(Item{Key: old.Key, Deleted: true}); err != nil {
					return nil, false, err
				}
			}
			continue
		}
		if known && old.Key != rel {
			if err := emit(Item{Key: old.Key, Deleted: true}); err != nil {
				return nil, false, err
			}
		}
		tag := firstNonEmpty(p.CTag, p.ETag)
		if !full && known && old.Key == rel && tag != "" && old.Tag == tag {
			continue // a metadata-only change
		}
		next.Items[p.ID] = trackedItem{Key: rel, Tag: tag}
		item, prevItem := p, prev.Items[p.ID]
		it := Item{Key: rel, URI: firstNonEmpty(p.WebURL, rel), Size: p.Size, ModTime: p.LastModified,
			Unchanged: full && prevItem.Key == rel && tag != "" && prevItem.Tag == tag,
			Open:      func(ctx context.Context) (io.ReadCloser, error) { return c.download(ctx, item) }}
		if p.File != nil {
			it.ContentType = p.File.MimeType
		}
		if err := emit(it); err != nil {
			return nil, false, err
		}
	}
	next.Token = pages.deltaLink
	b, _ := json.Marshal(next)
	return b, full, nil
}

type graphDelta struct {
	items     []graphItem
	deltaLink string
}

// collect reads every page of a delta round before any item is emitted, so
// a failure half-way leaves the stored cursor where it was.
func (c *sharePointConnector) collect(ctx context.Context, start string) (*graphDelta, error) {
	out := &graphDelta{}
	link := start
	for pages := 0; link != ""; pages++ {
		if pages > 100000 {
			return nil, fmt.Errorf("sharepoint: delta feed did not end after %d pages", pages)
		}
		var p graphPage
		if err := c.rest.getJSON(ctx, link, &p); err != nil {
			return nil, fmt.Errorf("sharepoint delta: %w", err)
		}
		out.items = append(out.items, p.Value...)
		if p.DeltaLink != "" {
			out.deltaLink = p.DeltaLink
		}
		link = p.NextLink
	}
	if out.deltaLink == "" {
		return nil, fmt.Errorf("sharepoint delta: the feed ended without an @odata.deltaLink")
	}
	return out, nil
}

// relPath is the item's path in the drive relative to the configured
// folder; false when it lies outside it.
func (c *sharePointConnector) relPath(p graphItem) (string, bool) {
	parent := p.ParentReference.Path
	if i := strings.Index(parent, "root:"); i >= 0 {
		parent = parent[i+len("root:"):]
	} else {
		parent = ""
	}
	full := strings.TrimPrefix(path.Join("/", parent, p.Name), "/")
	if c.cfg.Folder == "" {
		return full, true
	}
	rel, ok := strings.CutPrefix(full, c.cfg.Folder+"/")
	return rel, ok
}

// download reads a file's content: the pre-authenticated download URL when
// Graph gave one, else /items/{id}/content with the token.
func (c *sharePointConnector) download(ctx context.Context, p graphItem) (io.ReadCloser, error) {
	var resp *http.Response
	var err error
	if p.DownloadURL != "" {
		resp, err = c.anon.do(ctx, "GET", p.DownloadURL, nil)
	} else {
		resp, err = c.rest.do(ctx, "GET", c.drive()+"/items/"+url.PathEscape(p.ID)+"/content", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("sharepoint download %s: %w", p.Name, err)
	}
	return resp.Body, nil
}
