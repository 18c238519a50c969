package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/platform/backup"
	"github.com/minimart/minimart/internal/platform/config"
)

// backupFilePrefix and backupFileSuffix frame the timestamped names of backups written into
// a folder; --keep rotates only files named so.
const (
	backupFilePrefix = "minimart-"
	backupFileSuffix = ".tar.gz"
	backupStamp      = "20060102T150405Z"
)

// backupCommand writes a backup of the database this process's modules use, and the
// uploaded files: `minimart backup --to FILE|FOLDER [--keep N]`.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "the backup file, or a folder to write a timestamped backup into")
	keep := fs.Int("keep", 0, "with a folder: keep the newest N backups there and remove older ones (0 keeps all)")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *to == "" {
		return usagef("backup: --to FILE or --to FOLDER is required")
	}
	if *keep < 0 {
		return usagef("backup: --keep must be 0 or more")
	}
	st, statErr := os.Stat(*to)
	folder := (statErr == nil && st.IsDir()) || strings.HasSuffix(*to, string(os.PathSeparator))
	if *keep > 0 && !folder {
		return usagef("backup: --keep rotates backups in a folder: --to must name an existing folder (or end with /)")
	}
	path := *to
	if folder {
		if err := os.MkdirAll(*to, 0o750); err != nil {
			return usagef("backup: --to: %v", err)
		}
		path = filepath.Join(*to, backupFilePrefix+time.Now().UTC().Format(backupStamp)+backupFileSuffix)
	}
	base, err := openBase(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer base.Close()

	// A temp file renamed at the end: a backup that failed halfway never looks like one.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return usagef("backup: --to: %v", err)
	}
	defer os.Remove(tmp.Name())
	started := time.Now()
	sum, err := backup.Backup(ctx, base.DB, tmp, backup.Options{
		Sets: app.Migrations(cfg.Modules...), MediaDir: mediaDir(cfg), Progress: newProgress(stdout),
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	size := int64(0)
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(stdout, "backup written: %s (%s, %d rows in %d tables, %d uploaded files, %s, took %s)\n",
		path, sum.Header.Engine, totalRows(sum.Rows), len(sum.Rows), sum.Media, byteSize(size), time.Since(started).Round(time.Millisecond))
	if *keep > 0 {
		removed, err := rotateBackups(*to, *keep)
		if err != nil {
			return err
		}
		for _, r := range removed {
			fmt.Fprintf(stdout, "removed old backup %s (--keep %d)\n", r, *keep)
		}
	}
	return nil
}

// mediaDir is where this process keeps uploaded files; they belong to the catalog module.
func mediaDir(cfg config.Config) string {
	if !cfg.Serves(config.ModuleCatalog) {
		return ""
	}
	return filepath.Join(cfg.DataDir, "media")
}

// rotateBackups removes the oldest timestamped backups in dir beyond the newest keep.
func rotateBackups(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: --keep: %w", err)
	}
	var names []string
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), backupFilePrefix)
		stamp, ok2 := strings.CutSuffix(stamp, backupFileSuffix)
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse(backupStamp, stamp); err == nil {
			names = append(names, e.Name())
		}
	}
	// The stamps sort as the times they name.
	slices.Sort(names)
	var removed []string
	for len(names) > keep {
		p := filepath.Join(dir, names[0])
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("backup: --keep: %w", err)
		}
		removed = append(removed, p)
		names = names[1:]
	}
	return removed, nil
}

// restoreCommand restores a backup into an empty database and rebuilds the search index:
// `minimart restore --from FILE [--force]`.
func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup file")
	force := fs.Bool("force", false, "restore into a database that holds data, replacing its Minimart tables")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *from == "" {
		return usagef("restore: --from FILE is required")
	}
	if _, err := os.Stat(*from); err != nil {
		return usagef("restore: --from: %v", err)
	}
	started := time.Now()
	sum, err := backup.Restore(ctx, *from, backup.RestoreOptions{
		DBURL: cfg.DBURL, DataDir: cfg.DataDir, Sets: app.Migrations(cfg.Modules...),
		MediaDir: mediaDir(cfg), Force: *force, Progress: newProgress(stdout),
	})
	for _, refusal := range []error{backup.ErrCorrupt, backup.ErrNewerSchema, backup.ErrEngine, backup.ErrModules, backup.ErrNotEmpty, backup.ErrInUse} {
		if errors.Is(err, refusal) {
			return fmt.Errorf("restore refused, nothing was changed: %w", err)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s backup of %s taken %s: %d rows in %d tables, %d uploaded files (took %s)\n",
		sum.Header.Engine, sum.Header.Source, sum.Header.TakenAt.Format(time.RFC3339), totalRows(sum.Rows), len(sum.Rows), sum.Media,
		time.Since(started).Round(time.Millisecond))
	if cfg.Serves(config.ModuleCatalog) {
		if err := rebuildSearchIndex(ctx, cfg, getenv, stdout, stderr); err != nil {
			return fmt.Errorf("restored, but the search index was not rebuilt (run minimart reindex): %w", err)
		}
	}
	fmt.Fprintln(stdout, "next: run `minimart check`, then start the server")
	return nil
}

func totalRows(rows map[string]int64) int64 {
	var n int64
	for _, r := range rows {
		n += r
	}
	return n
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// newProgress shows a progress bar on a terminal and plain lines anywhere else (a log, cron
// mail), where a bar's carriage returns would be noise.
func newProgress(w io.Writer) backup.Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(stage string, total int64) {
	p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(stage),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond))
}

func (p *barProgress) Add(n int64) { _ = p.bar.Add64(n) }

func (p *barProgress) Done() { _ = p.bar.Finish() }

// lineProgress prints a line at the start of each stage, at every tenth of it, and at its end.
type lineProgress struct {
	w            io.Writer
	stage        string
	total, done  int64
	nextPercent  int64
	startedStage time.Time
}

func (p *lineProgress) Start(stage string, total int64) {
	p.stage, p.total, p.done, p.nextPercent, p.startedStage = stage, total, 0, 10, time.Now()
	fmt.Fprintf(p.w, "%s…\n", stage)
}

func (p *lineProgress) Add(n int64) {
	p.done += n
	if p.total <= 0 {
		return
	}
	for p.nextPercent <= 100 && p.done*100 >= p.nextPercent*p.total {
		if p.nextPercent < 100 {
			fmt.Fprintf(p.w, "%s: %d%% (%d/%d)\n", p.stage, p.nextPercent, p.done, p.total)
		}
		p.nextPercent += 10
	}
}

func (p *lineProgress) Done() {
	fmt.Fprintf(p.w, "%s: done in %s\n", p.stage, time.Since(p.startedStage).Round(time.Millisecond))
}
