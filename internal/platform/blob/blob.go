// Package blob stores uploaded files (product images) and serves them. Dir keeps them under
// the data dir; an S3-compatible store can implement the same Store interface.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

// ErrNotFound answers requests for files that are not stored.
var ErrNotFound = errs.New(errs.NotFound, "file_not_found", "no such file")

// Store keeps immutable files named by their content.
type Store interface {
	// Put stores data and returns the URL path it is served at. Storing the same bytes twice
	// returns the same URL.
	Put(ctx context.Context, data []byte, ext string) (url string, err error)
}

// Dir stores files in a directory and serves them under a URL prefix.
type Dir struct {
	root   string
	prefix string
}

// NewDir returns a store writing into root and serving at prefix (e.g. "/media/").
func NewDir(root, prefix string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	return &Dir{root: root, prefix: prefix}, nil
}

var namePattern = regexp.MustCompile(`^[0-9a-f]{64}\.[a-z0-9]{2,5}$`)

// Put writes data under its SHA-256; a temp file and rename make a half-written file
// impossible to serve.
func (d *Dir) Put(ctx context.Context, data []byte, ext string) (string, error) {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:]) + "." + ext
	if !namePattern.MatchString(name) {
		return "", errors.New("blob: bad extension")
	}
	path := filepath.Join(d.root, name)
	if _, err := os.Stat(path); err == nil {
		return d.prefix + name, nil
	}
	tmp, err := os.CreateTemp(d.root, ".upload-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return d.prefix + name, nil
}

// Handler serves stored files. Names are content hashes, so a file never changes and
// clients may cache it for a year.
func (d *Dir) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !namePattern.MatchString(name) {
			web.WriteError(w, r, ErrNotFound)
			return
		}
		f, err := os.Open(filepath.Join(d.root, name))
		if err != nil {
			web.WriteError(w, r, ErrNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			web.WriteError(w, r, ErrNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", `"`+name[:64]+`"`)
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
}
