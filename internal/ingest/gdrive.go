package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// GDriveConfig is a Google Drive source read through the Drive v3 files
// and changes APIs.
type GDriveConfig struct {
	// FolderID limits the source to one folder and its subfolders; empty:
	// every file the token can see.
	FolderID    string `json:"folder_id,omitempty"`
	TokenSecret string `json:"token_secret"`       // name of the secret holding an OAuth access token
	BaseURL     string `json:"base_url,omitempty"` // default https://www.googleapis.com/drive/v3
	// ExportHTML exports Google Docs as HTML (keeping headings as sections)
	// instead of plain text.
	ExportHTML bool `json:"export_html,omitempty"`
}

// Validate checks the config is complete.
func (c *GDriveConfig) Validate() error {
	if c.TokenSecret == "" {
		return fmt.Errorf("%w: gdrive source needs token_secret", ErrConfig)
	}
	if strings.ContainsAny(c.FolderID, `'\`) {
		return fmt.Errorf("%w: folder_id %q", ErrConfig, c.FolderID)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: base_url %q", ErrConfig, c.BaseURL)
		}
	}
	return nil
}

// gdriveCursor extends the tracked cursor with the folders known to lie
// under FolderID, so changes can be placed without walking the tree again.
type gdriveCursor struct {
	trackedCursor
	Folders map[string]bool `json:"folders,omitempty"`
}

type gdriveConnector struct {
	cfg  GDriveConfig
	rest *restClient
}

func init() {
	RegisterConnector("gdrive", func(config json.RawMessage, secrets Secrets) (Connector, error) {
		var cfg GDriveConfig
		if err := strictJSON(config, &cfg); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if cfg.BaseURL == "" {
			cfg.BaseURL = "https://www.googleapis.com/drive/v3"
		}
		cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
		rc, err := bearerClient(cfg.TokenSecret, secrets)
		if err != nil {
			return nil, err
		}
		return &gdriveConnector{cfg: cfg, rest: rc}, nil
	})
}

// driveFile is the part of a Drive file resource the connector reads.
type driveFile struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	MimeType     string    `json:"mimeType"`
	ModifiedTime time.Time `json:"modifiedTime"`
	MD5          string    `json:"md5Checksum"`
	Version      string    `json:"version"`
	Size         string    `json:"size"`
	Parents      []string  `json:"parents"`
	Trashed      bool      `json:"trashed"`
	WebViewLink  string    `json:"webViewLink"`
}

const (
	driveFolderMime = "application/vnd.google-apps.folder"
	driveFileFields = "id,name,mimeType,modifiedTime,md5Checksum,version,size,parents,trashed,webViewLink"
)

// Sync lists every file on the first sync (recording the changes start
// token first, so nothing changed during the listing is missed), and later
// follows the changes feed from the stored token to its newStartPageToken.
func (c *gdriveConnector) Sync(ctx context.Context, cursor json.RawMessage, emit func(Item) error) (json.RawMessage, bool, error) {
	var prev gdriveCursor
	if len(cursor) > 0 {
		_ = json.Unmarshal(cursor, &prev)
	}
	if prev.Token == "" {
		return c.fullSync(ctx, prev, emit)
	}
	next := gdriveCursor{trackedCursor: trackedCursor{Items: map[string]trackedItem{}}, Folders: map[string]bool{}}
	for id, ti := range prev.Items {
		next.Items[id] = ti
	}
	for id := range prev.Folders {
		next.Folders[id] = true
	}
	type change struct {
		FileID  string     `json:"fileId"`
		Removed bool       `json:"removed"`
		File    *driveFile `json:"file"`
	}
	var changes []change
	token := prev.Token
	for pages := 0; ; pages++ {
		if pages > 100000 {
			return nil, false, fmt.Errorf("gdrive changes: the feed did not end after %d pages", pages)
		}
		q := url.Values{"pageToken": {token}, "pageSize": {"1000"}, "includeRemoved": {"true"}, "spaces": {"drive"},
			"fields": {"nextPageToken,newStartPageToken,changes(fileId,removed,file(" + driveFileFields + "))"}}
		var page struct {
			Changes           []change `json:"changes"`
			NextPageToken     string   `json:"nextPageToken"`
			NewStartPageToken string   `json:"newStartPageToken"`
		}
		if err := c.rest.getJSON(ctx, c.cfg.BaseURL+"/changes?"+q.Encode(), &page); err != nil {
			return nil, false, fmt.Errorf("gdrive changes: %w", err)
		}
		changes = append(changes, page.Changes...)
		if page.NewStartPageToken != "" {
			next.Token = page.NewStartPageToken
			break
		}
		if page.NextPageToken == "" {
			return nil, false, fmt.Errorf("gdrive changes: a page had neither nextPageToken nor newStartPageToken")
		}
		token = page.NextPageToken
	}
	// Folders first, so a file created in a new subfolder in the same round
	// is placed.
	for _, ch := range changes {
		if f := ch.File; f != nil && f.MimeType == driveFolderMime && !f.Trashed && !ch.Removed && c.inScope(f, next.Folders) {
			next.Folders[f.ID] = true
		}
	}
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		old, known := next.Items[ch.FileID]
		gone := ch.Removed || ch.File == nil || ch.File.Trashed || !c.inScope(ch.File, next.Folders)
		if gone {
			if ch.File != nil && ch.File.MimeType == driveFolderMime {
				delete(next.Folders, ch.FileID)
			}
			if known {
				delete(next.Items, ch.FileID)
				if err := emit(Item{Key: old.Key, Deleted: true}); err != nil {
					return nil, false, err
				}
			}
			continue
		}
		f := ch.File
		key, ok := c.key(f)
		if !ok {
			continue
		}
		if known && old.Key != key {
			if err := emit(Item{Key: old.Key, Deleted: true}); err != nil {
				return nil, false, err
			}
		}
		tag := c.tag(f)
		unchanged := known && old.Key == key && old.Tag == tag
		next.Items[f.ID] = trackedItem{Key: key, Tag: tag}
		if unchanged {
			continue
		}
		if err := emit(c.item(f, key, false)); err != nil {
			return nil, false, err
		}
	}
	b, _ := json.Marshal(next)
	return b, false, nil
}

// fullSync records the changes start token, then lists the files (the
// folder tree under FolderID, or everything).
func (c *gdriveConnector) fullSync(ctx context.Context, prev gdriveCursor, emit func(Item) error) (json.RawMessage, bool, error) {
	var start struct {
		StartPageToken string `json:"startPageToken"`
	}
	if err := c.rest.getJSON(ctx, c.cfg.BaseURL+"/changes/startPageToken", &start); err != nil {
		return nil, false, fmt.Errorf("gdrive start token: %w", err)
	}
	if start.StartPageToken == "" {
		return nil, false, fmt.Errorf("gdrive start token: the answer had no startPageToken")
	}
	next := gdriveCursor{trackedCursor: trackedCursor{Token: start.StartPageToken, Items: map[string]trackedItem{}}, Folders: map[string]bool{}}
	visit := func(f driveFile) error {
		key, ok := c.key(&f)
		if !ok {
			return nil
		}
		tag := c.tag(&f)
		next.Items[f.ID] = trackedItem{Key: key, Tag: tag}
		old := prev.Items[f.ID]
		return emit(c.item(&f, key, old.Key == key && old.Tag == tag))
	}
	if c.cfg.FolderID == "" {
		if err := c.list(ctx, "trashed = false and mimeType != '"+driveFolderMime+"'", visit); err != nil {
			return nil, false, err
		}
	} else {
		queue := []string{c.cfg.FolderID}
		next.Folders[c.cfg.FolderID] = true
		for len(queue) > 0 {
			dir := queue[0]
			queue = queue[1:]
			err := c.list(ctx, "'"+dir+"' in parents and trashed = false", func(f driveFile) error {
				if f.MimeType == driveFolderMime {
					if !next.Folders[f.ID] {
						next.Folders[f.ID] = true
						queue = append(queue, f.ID)
					}
					return nil
				}
				return visit(f)
			})
			if err != nil {
				return nil, false, err
			}
		}
	}
	b, _ := json.Marshal(next)
	return b, true, nil
}

// list pages through files.list for a query.
func (c *gdriveConnector) list(ctx context.Context, query string, fn func(driveFile) error) error {
	token := ""
	for pages := 0; ; pages++ {
		if pages > 100000 {
			return fmt.Errorf("gdrive files: the listing did not end after %d pages", pages)
		}
		q := url.Values{"q": {query}, "pageSize": {"1000"}, "spaces": {"drive"}, "fields": {"nextPageToken,files(" + driveFileFields + ")"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page struct {
			Files         []driveFile `json:"files"`
			NextPageToken string      `json:"nextPageToken"`
		}
		if err := c.rest.getJSON(ctx, c.cfg.BaseURL+"/files?"+q.Encode(), &page); err != nil {
			return fmt.Errorf("gdrive files: %w", err)
		}
		for _, f := range page.Files {
			if err := ctx.Err(); err != nil {
				return err
			}
			if f.Trashed || f.MimeType == driveFolderMime && c.cfg.FolderID == "" {
				continue
			}
			if err := fn(f); err != nil {
				return err
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		token = page.NextPageToken
	}
}

// inScope says whether a file lies under the configured folder.
func (c *gdriveConnector) inScope(f *driveFile, folders map[string]bool) bool {
	if c.cfg.FolderID == "" {
		return true
	}
	for _, p := range f.Parents {
		if folders[p] {
			return true
		}
	}
	return false
}

// exportAs says how a Google Workspace file is exported: the MIME type to
// ask for and the extension that selects its extractor. ok is false for
// files that are not documents (folders, forms, shortcuts, drawings).
func (c *gdriveConnector) exportAs(mime string) (as, ext string, ok bool) {
	switch mime {
	case "application/vnd.google-apps.document":
		if c.cfg.ExportHTML {
			return "text/html", ".html", true
		}
		return "text/plain", ".txt", true
	case "application/vnd.google-apps.spreadsheet":
		return "text/csv", ".csv", true
	case "application/vnd.google-apps.presentation":
		return "text/plain", ".txt", true
	}
	return "", "", !strings.HasPrefix(mime, "application/vnd.google-apps.")
}

// key is a file's identity in the dataset: "<id>/<name>", with the export
// extension added for Google Docs, so the extractor is chosen by name.
func (c *gdriveConnector) key(f *driveFile) (string, bool) {
	if f.MimeType == driveFolderMime {
		return "", false
	}
	_, ext, ok := c.exportAs(f.MimeType)
	if !ok {
		return "", false
	}
	name := strings.ReplaceAll(f.Name, "/", "_")
	if ext != "" && !strings.HasSuffix(strings.ToLower(name), ext) {
		name += ext
	}
	return f.ID + "/" + name, true
}

// tag identifies a file's content version: the checksum of binary files,
// the version number (else modification time) of Google Docs.
func (c *gdriveConnector) tag(f *driveFile) string {
	if f.MD5 != "" {
		return "md5:" + f.MD5
	}
	if f.Version != "" {
		return "v:" + f.Version
	}
	return "t:" + f.ModifiedTime.UTC().Format(time.RFC3339Nano)
}

func (c *gdriveConnector) item(f *driveFile, key string, unchanged bool) Item {
	var size int64 = -1
	if f.Size != "" {
		fmt.Sscan(f.Size, &size)
	}
	id, mime := f.ID, f.MimeType
	as, _, _ := c.exportAs(mime)
	if as != "" {
		size = -1 // exports have no size until made
	}
	return Item{Key: key, URI: firstNonEmpty(f.WebViewLink, "gdrive://"+f.ID), Size: size, ModTime: f.ModifiedTime, ContentType: mime, Unchanged: unchanged,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			u := c.cfg.BaseURL + "/files/" + url.PathEscape(id) + "?alt=media"
			if as != "" {
				u = c.cfg.BaseURL + "/files/" + url.PathEscape(id) + "/export?mimeType=" + url.QueryEscape(as)
			}
			resp, err := c.rest.do(ctx, "GET", u, nil)
			if err != nil {
				return nil, fmt.Errorf("gdrive download %s: %w", f.Name, err)
			}
			return resp.Body, nil
		}}
}
