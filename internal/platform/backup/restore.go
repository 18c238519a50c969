package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// Reasons a restore is refused before it writes anything.
var (
	ErrCorrupt     = errors.New("the backup file is corrupt or truncated")
	ErrNewerSchema = errors.New("the backup's schema is newer than this binary knows")
	ErrEngine      = errors.New("the backup was taken on another database engine")
	ErrModules     = errors.New("the backup holds other modules than this process serves")
	ErrNotEmpty    = errors.New("the target database is not empty")
	ErrInUse       = errors.New("a server is running on the target database")
)

// RestoreOptions name the target and how to restore into it.
type RestoreOptions struct {
	// DBURL and DataDir name the target database as sqldb.Open takes them.
	DBURL, DataDir string
	// Sets are the migration sets of the modules the target process serves; the backup
	// must hold exactly these.
	Sets []sqldb.Migrations
	// MediaDir receives the uploaded files.
	MediaDir string
	// Force restores into a database that holds data: its Minimart tables are replaced.
	Force    bool
	Progress Progress
}

// manifest is what a verified file holds besides its data.
type manifest struct {
	header Header
	counts map[string]int64
}

// Verify reads the whole backup at path and checks its format, every entry's SHA-256 and the
// completeness of the archive. It returns the header and the row counts it records.
func Verify(path string, p Progress) (Summary, error) {
	m, err := verify(path, p)
	if err != nil {
		return Summary{}, err
	}
	return Summary{Header: m.header, Rows: m.counts}, nil
}

func verify(path string, p Progress) (manifest, error) {
	if p == nil {
		p = silent{}
	}
	var m manifest
	sums := map[string]string{}
	var order []string
	var listed []byte
	err := readArchive(path, "verifying", p, func(name string, r io.Reader) error {
		if listed != nil {
			return fmt.Errorf("entry %s after %s", name, sumsEntry)
		}
		if name == sumsEntry {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			listed = b
			return nil
		}
		if len(order) == 0 && name != headerEntry {
			return fmt.Errorf("the first entry is %s, not %s: not a Minimart backup", name, headerEntry)
		}
		if _, seen := sums[name]; seen {
			// Only one copy would be checked against SHA256SUMS, and the restore reads all.
			return fmt.Errorf("entry %s appears twice", name)
		}
		h := sha256.New()
		var keep bytes.Buffer
		w := io.Writer(h)
		if name == headerEntry || name == countsEntry {
			w = io.MultiWriter(h, &keep)
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
		sums[name] = hex.EncodeToString(h.Sum(nil))
		order = append(order, name)
		switch name {
		case headerEntry:
			if err := json.Unmarshal(keep.Bytes(), &m.header); err != nil || m.header.Format != formatName {
				return errors.New("not a Minimart backup (no valid header)")
			}
			if m.header.FormatVersion > formatVersion {
				return fmt.Errorf("backup format %d is newer than this binary's %d", m.header.FormatVersion, formatVersion)
			}
		case countsEntry:
			if err := json.Unmarshal(keep.Bytes(), &m.counts); err != nil {
				return fmt.Errorf("%s: %w", countsEntry, err)
			}
		}
		return nil
	})
	if err != nil {
		return manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if listed == nil {
		return manifest{}, fmt.Errorf("%w: it ends before its checksums (%s)", ErrCorrupt, sumsEntry)
	}
	want := map[string]string{}
	for line := range strings.Lines(string(listed)) {
		sum, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
		if !ok {
			return manifest{}, fmt.Errorf("%w: bad line in %s", ErrCorrupt, sumsEntry)
		}
		want[name] = sum
	}
	for _, name := range order {
		if want[name] != sums[name] {
			return manifest{}, fmt.Errorf("%w: checksum mismatch in %s", ErrCorrupt, name)
		}
	}
	if len(want) != len(order) || m.counts == nil {
		return manifest{}, fmt.Errorf("%w: entries are missing", ErrCorrupt)
	}
	return m, nil
}

// readArchive calls fn for each entry of the gzip-compressed tar file at path. Reading to
// the end makes gzip check its own CRC and length too.
func readArchive(path, stage string, p Progress, fn func(name string, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	p.Start(stage, st.Size())
	defer p.Done()
	gz, err := gzip.NewReader(bufio.NewReader(progressReader{f, p}))
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := fn(hdr.Name, tr); err != nil {
			return err
		}
	}
	// The tar end marker may come before the end of the gzip stream: read the rest.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return err
	}
	return gz.Close()
}

// Restore writes the backup at path into the target database, which must be empty (only
// what migrations put there) unless o.Force: it verifies the whole file first, then checks
// engine, modules and schema versions, and only then writes. SQLite: the database file is
// replaced by the copy. MySQL/MariaDB: Minimart's tables (and no others) are dropped,
// recreated at the backup's schema versions, and filled in one transaction. The next start
// of the server migrates the schema on to this binary's versions.
func Restore(ctx context.Context, path string, o RestoreOptions) (Summary, error) {
	p := o.Progress
	if p == nil {
		p = silent{}
	}
	m, err := verify(path, p)
	if err != nil {
		return Summary{}, err
	}
	h := m.header
	db, err := sqldb.Open(ctx, o.DBURL, o.DataDir)
	if err != nil {
		return Summary{}, fmt.Errorf("target database: %w", err)
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	if err := checkCompatible(db, h, o.Sets); err != nil {
		return Summary{}, err
	}
	tables, seeded, err := scratchSchema(ctx, o.Sets)
	if err != nil {
		return Summary{}, err
	}
	if err := checkTarget(ctx, db, tables, seeded, o.Force); err != nil {
		return Summary{}, err
	}
	s := Summary{Header: h, Rows: m.counts}
	if db.Dialect == sqldb.SQLite {
		s.Media, err = restoreSQLite(ctx, path, db, o.MediaDir, p)
		db = nil // restoreSQLite closed it
	} else {
		s.Media, err = restoreMySQL(ctx, path, db, h, tables, o, p)
	}
	if err != nil {
		return Summary{}, err
	}
	return s, checkCounts(ctx, o, tables, m.counts)
}

func checkCompatible(db *sqldb.DB, h Header, sets []sqldb.Migrations) error {
	if h.Engine != db.Dialect {
		return fmt.Errorf("%w: it holds a %s database and the target is %s; restore it into a %s database (see docs/operations.md)",
			ErrEngine, h.Engine, db.Dialect, h.Engine)
	}
	known, err := db.KnownVersions(sets...)
	if err != nil {
		return err
	}
	if !slices.Equal(slices.Sorted(maps.Keys(h.Schema)), slices.Sorted(maps.Keys(known))) {
		return fmt.Errorf("%w: the backup holds %s, this process serves %s (set MINIMART_MODULES as on the source)",
			ErrModules, strings.Join(slices.Sorted(maps.Keys(h.Schema)), ","), strings.Join(slices.Sorted(maps.Keys(known)), ","))
	}
	var newer []string
	for _, module := range slices.Sorted(maps.Keys(known)) {
		if h.Schema[module] > known[module] {
			newer = append(newer, fmt.Sprintf("%s version %d (this binary knows up to %d)", module, h.Schema[module], known[module]))
		}
	}
	if len(newer) > 0 {
		return fmt.Errorf("%w: %s; restore it with the Minimart release that took it, or a newer one", ErrNewerSchema, strings.Join(newer, ", "))
	}
	return nil
}

// checkTarget refuses a target a server is running on, and one that holds more than its
// migrations put there unless force.
func checkTarget(ctx context.Context, db *sqldb.DB, tables []string, seeded map[string]int64, force bool) error {
	var present []string
	var err error
	if db.Dialect == sqldb.SQLite {
		present, err = sqliteTables(ctx, db.Read())
	} else {
		present, err = mysqlTables(ctx, db.Read())
	}
	if err != nil {
		return err
	}
	var ours []string
	for _, t := range tables {
		if slices.Contains(present, t) {
			ours = append(ours, t)
		}
	}
	if slices.Contains(ours, processTable) {
		var live int
		if err := db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+processTable+" WHERE heartbeat_at > ?",
			sqldb.Time(time.Now().Add(-liveness.DefaultStaleAfter))).Scan(&live); err != nil {
			return fmt.Errorf("target database: %w", err)
		}
		if live > 0 {
			return fmt.Errorf("%w (%s): stop every server using it first", ErrInUse, db.Target)
		}
	}
	if force {
		return nil
	}
	counts, err := countRows(ctx, db.Read(), db.Dialect, ours)
	if err != nil {
		return fmt.Errorf("target database: %w", err)
	}
	var full []string
	for _, t := range ours {
		if counts[t] > seeded[t] {
			full = append(full, fmt.Sprintf("%s (%d rows)", t, counts[t]))
		}
	}
	if len(full) > 0 {
		sort.Strings(full)
		if len(full) > 5 {
			full = append(full[:5], "…")
		}
		return fmt.Errorf("%w (%s holds %s): restore into an empty database, or pass --force to replace its Minimart tables",
			ErrNotEmpty, db.Target, strings.Join(full, ", "))
	}
	return nil
}

var mediaName = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,200}$`)

// writeMedia stores one uploaded file under dir, through a temp file and a rename.
func writeMedia(dir, name string, r io.Reader) error {
	if !mediaName.MatchString(name) {
		return fmt.Errorf("media entry %q: not a file name", name)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// restoreSQLite extracts the database copy next to the target, checks it, closes db and
// puts the copy in the target's place. It writes the media files too.
func restoreSQLite(ctx context.Context, path string, db *sqldb.DB, mediaDir string, p Progress) (int, error) {
	target := strings.TrimPrefix(db.Target, "sqlite:")
	tmp, err := os.CreateTemp(filepath.Dir(target), ".restore-*.db")
	if err != nil {
		db.Close()
		return 0, err
	}
	defer os.Remove(tmp.Name())
	err = readArchive(path, "restoring", p, func(name string, r io.Reader) error {
		if name != sqliteEntry {
			return nil
		}
		if _, err := io.Copy(tmp, r); err != nil {
			return err
		}
		return tmp.Sync()
	})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		db.Close()
		return 0, fmt.Errorf("restore: %w", err)
	}
	if err := quickCheck(ctx, tmp.Name()); err != nil {
		db.Close()
		return 0, err
	}
	if err := db.Close(); err != nil {
		return 0, err
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	// The uploaded files last, once the database copy has passed its check: a copy refused
	// leaves the media folder as it was.
	media := 0
	err = readArchive(path, "restoring media", p, func(name string, r io.Reader) error {
		if !strings.HasPrefix(name, mediaPrefix) {
			return nil
		}
		media++
		return writeMedia(mediaDir, strings.TrimPrefix(name, mediaPrefix), r)
	})
	if err != nil {
		return 0, fmt.Errorf("restore media: %w", err)
	}
	return media, nil
}

func quickCheck(ctx context.Context, path string) error {
	db, err := sqldb.Open(ctx, "sqlite:"+path, "")
	if err != nil {
		return fmt.Errorf("restore: the copy: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.Read().QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("restore: check the copy: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("%w: the database copy fails SQLite's quick_check: %s", ErrCorrupt, res)
	}
	return nil
}

// restoreMySQL drops Minimart's tables, migrates them to the backup's versions and loads
// every row in one transaction (foreign keys checked by the source already).
func restoreMySQL(ctx context.Context, path string, db *sqldb.DB, h Header, tables []string, o RestoreOptions, p Progress) (int, error) {
	conn, err := db.Write().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
		return 0, err
	}
	drop := slices.Clone(tables)
	for _, m := range o.Sets {
		drop = append(drop, versionTable(m))
	}
	for _, t := range drop {
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+quote(sqldb.MySQL, t)); err != nil {
			return 0, fmt.Errorf("restore: drop %s: %w", t, err)
		}
	}
	if err := db.MigrateTo(ctx, h.Schema, o.Sets...); err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION"); err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	// What the migrations just seeded is in the backup too.
	for _, t := range tables {
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+quote(sqldb.MySQL, t)); err != nil {
			return 0, fmt.Errorf("restore: empty %s: %w", t, err)
		}
	}
	var loader *tableLoader
	media := 0
	err = readArchive(path, "restoring", p, func(name string, r io.Reader) error {
		switch {
		case strings.HasPrefix(name, mediaPrefix):
			media++
			return writeMedia(o.MediaDir, strings.TrimPrefix(name, mediaPrefix), r)
		case !strings.HasPrefix(name, tablePrefix):
			return nil
		}
		table, part, _ := strings.Cut(strings.TrimPrefix(name, tablePrefix), "/")
		if !slices.Contains(tables, table) {
			return fmt.Errorf("the backup holds table %s, which this binary's migrations do not create", table)
		}
		if part == "columns.json" {
			if loader != nil {
				if err := loader.flush(ctx); err != nil {
					return err
				}
			}
			var cols columns
			if err := json.NewDecoder(r).Decode(&cols); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			loader = newTableLoader(conn, table, cols)
			return nil
		}
		if loader == nil || loader.table != table {
			return fmt.Errorf("%s comes before its columns", name)
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
		for sc.Scan() {
			if err := loader.add(ctx, sc.Bytes()); err != nil {
				return err
			}
		}
		return sc.Err()
	})
	if err == nil && loader != nil {
		err = loader.flush(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("restore: commit: %w", err)
	}
	committed = true
	return media, nil
}

// checkCounts compares the restored tables' rows with the counts the backup recorded.
func checkCounts(ctx context.Context, o RestoreOptions, tables []string, want map[string]int64) error {
	db, err := sqldb.Open(ctx, o.DBURL, o.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	got, err := countRows(ctx, db.Read(), db.Dialect, tables)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if got[t] != want[t] {
			return fmt.Errorf("restore: table %s holds %d rows after the restore, the backup recorded %d", t, got[t], want[t])
		}
	}
	return nil
}
