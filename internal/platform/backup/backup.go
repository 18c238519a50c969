// Package backup writes a consistent copy of the shop's database and its uploaded files to
// one compressed, checksummed file, and restores such a file into an empty database of the
// same engine.
//
// The file is a gzip-compressed tar archive, readable with `tar tzf`:
//
//	header.json                 format, engine, when, schema version per migration set, tables
//	sqlite/minimart.db          SQLite: the database as VACUUM INTO wrote it
//	tables/<table>/columns.json MySQL/MariaDB: the table's columns and their SQL types
//	tables/<table>/<n>.jsonl    MySQL/MariaDB: its rows, one JSON array per line
//	media/<name>                uploaded files (product images), by their content hash
//	counts.json                 rows per table in the copy
//	SHA256SUMS                  the SHA-256 of every entry above, last, in sha256sum's format
//
// A restore reads the whole file and checks every sum before it writes anything, so a
// corrupt or truncated file changes nothing.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

const (
	formatName    = "minimart-backup"
	formatVersion = 1

	headerEntry = "header.json"
	sqliteEntry = "sqlite/minimart.db"
	countsEntry = "counts.json"
	sumsEntry   = "SHA256SUMS"
	mediaPrefix = "media/"
	tablePrefix = "tables/"

	// processTable holds the heartbeats of the processes running on the source (see
	// platform/liveness): a copy keeps its schema but none of its rows, since none of those
	// processes runs on the restored database.
	processTable = "instances"

	// partBytes bounds a table part held in memory before it is written as an entry.
	partBytes = 8 << 20
)

// Header describes a backup: what wrote it and which schema its rows belong to.
type Header struct {
	Format        string        `json:"format"`
	FormatVersion int           `json:"format_version"`
	Engine        sqldb.Dialect `json:"engine"`
	// Source is the database the copy was taken from, without any password.
	Source  string    `json:"source"`
	TakenAt time.Time `json:"taken_at"`
	// Schema is the applied version of each migration set, by module.
	Schema map[string]int64 `json:"schema"`
	Tables []string         `json:"tables"`
}

// Progress hears how far a backup or restore is. Start begins a stage of total units (bytes
// or rows); Add reports units done; Done ends the stage.
type Progress interface {
	Start(stage string, total int64)
	Add(n int64)
	Done()
}

// Summary is what a backup holds, or what a restore wrote.
type Summary struct {
	Header Header
	// Rows counts the rows of each table in the copy: for MySQL/MariaDB counted inside the
	// snapshot the rows were read in, for SQLite in the copy VACUUM INTO made.
	Rows  map[string]int64
	Media int
}

// Options are what Backup needs besides the database.
type Options struct {
	// Sets are the migration sets of the modules the process serves: they decide which
	// tables are Minimart's own, and the schema versions recorded.
	Sets []sqldb.Migrations
	// MediaDir holds the uploaded files to include; "" or a missing folder includes none.
	MediaDir string
	Progress Progress
}

func (o Options) progress() Progress {
	if o.Progress == nil {
		return silent{}
	}
	return o.Progress
}

type silent struct{}

func (silent) Start(string, int64) {}
func (silent) Add(int64)           {}
func (silent) Done()               {}

// Backup writes a copy of db's Minimart tables and the media folder to w, while the shop
// keeps running: a SQLite database through VACUUM INTO (one read transaction), a MySQL or
// MariaDB database in one consistent-snapshot transaction.
func Backup(ctx context.Context, db *sqldb.DB, w io.Writer, o Options) (Summary, error) {
	tables, err := OwnTables(ctx, o.Sets)
	if err != nil {
		return Summary{}, err
	}
	schema, err := db.SchemaVersions(ctx, o.Sets...)
	if err != nil {
		return Summary{}, err
	}
	h := Header{Format: formatName, FormatVersion: formatVersion, Engine: db.Dialect, Source: db.Target,
		TakenAt: time.Now().UTC(), Schema: schema, Tables: tables}
	gz := gzip.NewWriter(w)
	aw := &archiveWriter{tw: tar.NewWriter(gz), modTime: h.TakenAt}
	if err := aw.writeJSON(headerEntry, h); err != nil {
		return Summary{}, err
	}
	var rows map[string]int64
	if db.Dialect == sqldb.SQLite {
		rows, err = copySQLite(ctx, db, tables, aw, o.progress())
	} else {
		rows, err = dumpMySQL(ctx, db, tables, aw, o.progress())
	}
	if err != nil {
		return Summary{}, err
	}
	media, err := addMedia(o.MediaDir, aw, o.progress())
	if err != nil {
		return Summary{}, err
	}
	if err := aw.writeJSON(countsEntry, rows); err != nil {
		return Summary{}, err
	}
	if err := aw.writeSums(); err != nil {
		return Summary{}, err
	}
	if err := aw.tw.Close(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	return Summary{Header: h, Rows: rows, Media: media}, nil
}

// OwnTables lists Minimart's tables for the migration sets: those the sets create when
// applied to a scratch SQLite database. A shared MySQL database may hold other
// applications' tables; a backup neither copies nor drops them.
func OwnTables(ctx context.Context, sets []sqldb.Migrations) ([]string, error) {
	tables, _, err := scratchSchema(ctx, sets)
	return tables, err
}

// scratchSchema migrates a throwaway SQLite database with sets and returns its tables and
// the rows the migrations themselves put in them (a restore target holding no more than
// these is empty).
func scratchSchema(ctx context.Context, sets []sqldb.Migrations) ([]string, map[string]int64, error) {
	dir, err := os.MkdirTemp("", "minimart-schema-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	scratch, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(dir, "scratch.db"), "")
	if err != nil {
		return nil, nil, fmt.Errorf("scratch schema: %w", err)
	}
	defer scratch.Close()
	if err := scratch.Migrate(ctx, sets...); err != nil {
		return nil, nil, fmt.Errorf("scratch schema: %w", err)
	}
	all, err := sqliteTables(ctx, scratch.Read())
	if err != nil {
		return nil, nil, err
	}
	var tables []string
	for _, t := range all {
		if !isVersionTable(t, sets) {
			tables = append(tables, t)
		}
	}
	seeded, err := countRows(ctx, scratch.Read(), sqldb.SQLite, tables)
	return tables, seeded, err
}

func isVersionTable(table string, sets []sqldb.Migrations) bool {
	return slices.ContainsFunc(sets, func(m sqldb.Migrations) bool { return table == versionTable(m) })
}

func versionTable(m sqldb.Migrations) string { return "schema_" + m.Module }

func sqliteTables(ctx context.Context, q sqldb.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return scanStrings(rows)
}

func scanStrings(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quote quotes a table or column name for the dialect. Names come from our own migrations.
func quote(d sqldb.Dialect, name string) string {
	if d == sqldb.MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func countRows(ctx context.Context, q sqldb.Querier, d sqldb.Dialect, tables []string) (map[string]int64, error) {
	out := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quote(d, t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// copySQLite copies the database with VACUUM INTO, which reads it in one transaction while
// the server keeps writing (WAL), and adds the copy to the archive.
func copySQLite(ctx context.Context, db *sqldb.DB, tables []string, aw *archiveWriter, p Progress) (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "minimart-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "minimart.db")
	p.Start("copying the SQLite database", -1)
	if _, err := db.Write().ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return nil, fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	p.Done()
	copyDB, err := sqldb.Open(ctx, "sqlite:"+path, "")
	if err != nil {
		return nil, fmt.Errorf("backup: open the copy: %w", err)
	}
	if slices.Contains(tables, processTable) {
		_, err = copyDB.Write().ExecContext(ctx, "DELETE FROM "+processTable)
	}
	var rows map[string]int64
	if err == nil {
		rows, err = countRows(ctx, copyDB.Read(), sqldb.SQLite, tables)
	}
	if cerr := copyDB.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	p.Start("writing the backup", st.Size())
	defer p.Done()
	return rows, aw.writeFrom(sqliteEntry, st.Size(), progressReader{f, p})
}

type progressReader struct {
	r io.Reader
	p Progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.Add(int64(n))
	return n, err
}

// addMedia adds every regular file of dir (uploads are named by their content hash).
func addMedia(dir string, aw *archiveWriter, p Progress) (int, error) {
	if dir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("backup: media: %w", err)
	}
	var files []os.DirEntry
	for _, e := range entries {
		// Names starting with a dot are uploads still being written.
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, e)
		}
	}
	p.Start("copying uploaded files", int64(len(files)))
	defer p.Done()
	for _, e := range files {
		if err := addFile(filepath.Join(dir, e.Name()), mediaPrefix+e.Name(), aw); err != nil {
			return 0, fmt.Errorf("backup: media: %w", err)
		}
		p.Add(1)
	}
	return len(files), nil
}

func addFile(path, name string, aw *archiveWriter) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return aw.writeFrom(name, st.Size(), f)
}

// archiveWriter writes tar entries and remembers each one's SHA-256 for SHA256SUMS.
type archiveWriter struct {
	tw      *tar.Writer
	modTime time.Time
	sums    bytes.Buffer
}

func (a *archiveWriter) writeFrom(name string, size int64, r io.Reader) error {
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: size, ModTime: a.modTime, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(a.tw, h), r); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	fmt.Fprintf(&a.sums, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), name)
	return nil
}

func (a *archiveWriter) write(name string, data []byte) error {
	return a.writeFrom(name, int64(len(data)), bytes.NewReader(data))
}

func (a *archiveWriter) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return a.write(name, append(b, '\n'))
}

func (a *archiveWriter) writeSums() error {
	sums := slices.Clone(a.sums.Bytes())
	if err := a.tw.WriteHeader(&tar.Header{Name: sumsEntry, Mode: 0o640, Size: int64(len(sums)), ModTime: a.modTime, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err := a.tw.Write(sums)
	return err
}
