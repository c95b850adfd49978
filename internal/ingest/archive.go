package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// ArchiveLimits bound what an uploaded archive may expand to.
type ArchiveLimits struct {
	MaxEntries      int   // files in the archive; default 10,000
	MaxUncompressed int64 // total expanded bytes; default 1 GiB
	MaxEntryBytes   int64 // one expanded file; default 64 MiB
}

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 10000
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = 1 << 30
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = 64 << 20
	}
	return l
}

// ErrArchive reports an archive that is corrupt or exceeds its limits (a zip
// bomb, too many entries).
var ErrArchive = errors.New("ingest: bad archive")

// Entry is one file inside an archive.
type Entry struct {
	Name    string
	ModTime time.Time
	Data    []byte
}

// IsArchive says whether a file name is an archive that uploads expand.
func IsArchive(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".zip") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz") || strings.HasSuffix(n, ".tar")
}

// Expand calls fn for every regular file in a .zip, .tar or .tar.gz archive,
// enforcing the limits on the bytes actually decompressed (not the sizes the
// archive claims). Directories, links and hidden files (a path element
// starting with ".") are skipped; entry names are cleaned and may not escape
// the archive root.
func Expand(name string, raw []byte, lim ArchiveLimits, fn func(Entry) error) error {
	lim = lim.withDefaults()
	var total int64
	entries := 0
	take := func(n string, mod time.Time, r io.Reader) error {
		entries++
		if entries > lim.MaxEntries {
			return fmt.Errorf("%w: %s has more than %d entries", ErrArchive, name, lim.MaxEntries)
		}
		clean := path.Clean("/" + strings.ReplaceAll(n, `\`, "/"))[1:]
		if clean == "" || hidden(clean) {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(r, lim.MaxEntryBytes+1))
		if err != nil {
			return fmt.Errorf("%w: %s: %s: %v", ErrArchive, name, clean, err)
		}
		if int64(len(data)) > lim.MaxEntryBytes {
			return fmt.Errorf("%w: %s: %s expands beyond %d bytes", ErrArchive, name, clean, lim.MaxEntryBytes)
		}
		total += int64(len(data))
		if total > lim.MaxUncompressed {
			return fmt.Errorf("%w: %s expands beyond %d bytes", ErrArchive, name, lim.MaxUncompressed)
		}
		if mod.Year() <= 1980 {
			// Zip's MS-DOS time cannot say "unknown"; writers that set none
			// produce 1979/1980 dates. Treat those as unknown.
			mod = time.Time{}
		}
		return fn(Entry{Name: clean, ModTime: mod, Data: data})
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrArchive, name, err)
		}
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || !f.Mode().IsRegular() {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("%w: %s: %s: %v", ErrArchive, name, f.Name, err)
			}
			err = take(f.Name, f.Modified, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	default:
		var r io.Reader = bytes.NewReader(raw)
		if strings.HasSuffix(lower, ".gz") || strings.HasSuffix(lower, ".tgz") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrArchive, name, err)
			}
			defer gz.Close()
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrArchive, name, err)
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			if err := take(h.Name, h.ModTime, tr); err != nil {
				return err
			}
		}
	}
}

func hidden(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") || part == "__MACOSX" {
			return true
		}
	}
	return false
}
