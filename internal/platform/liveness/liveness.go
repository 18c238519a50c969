// Package liveness tells the processes sharing a database which of them are alive. Each
// process registers an instance with a heartbeat; work it claims names its instance id, and
// a claim whose instance stopped beating is free for another process within seconds — not
// after a lease that must be long enough for the slowest honest holder.
//
// SQLite has one serving process per data file: there, registering declares every other
// instance dead at once, so a restart after kill -9 reclaims everything immediately.
package liveness

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFS embed.FS

// Migrations create the instances table; every process applies them.
var Migrations = sqldb.Migrations{Module: "liveness", FS: migrationFS, Dir: "migrations"}

// Defaults: a heartbeat every second, dead after five missed.
const (
	DefaultEvery      = time.Second
	DefaultStaleAfter = 5 * time.Second
)

// Instance is this process's registration.
type Instance struct {
	id         string
	db         *sqldb.DB
	every      time.Duration
	staleAfter time.Duration
	log        *slog.Logger
	now        func() time.Time
}

// Options tune an instance; zero values take the defaults.
type Options struct {
	Every      time.Duration
	StaleAfter time.Duration
	Log        *slog.Logger
}

// Register records a new instance with a first heartbeat. On SQLite it also removes every
// other instance: the data file has one serving process, so they are dead.
func Register(ctx context.Context, db *sqldb.DB, o Options) (*Instance, error) {
	b := make([]byte, 12)
	rand.Read(b)
	i := &Instance{id: hex.EncodeToString(b), db: db, every: o.Every, staleAfter: o.StaleAfter, log: o.Log, now: time.Now}
	if i.every <= 0 {
		i.every = DefaultEvery
	}
	if i.staleAfter <= 0 {
		i.staleAfter = DefaultStaleAfter
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	now := sqldb.Time(i.now())
	err := db.InTx(ctx, func(tx *sqldb.Tx) error {
		if db.Dialect == sqldb.SQLite {
			if _, err := tx.ExecContext(ctx, "DELETE FROM instances"); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)", i.id, now, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register instance: %w", err)
	}
	return i, nil
}

// ID is the instance id claims record.
func (i *Instance) ID() string { return i.id }

// Run beats until ctx ends, then removes the instance, so a clean stop frees its claims at
// once. It logs failed beats and keeps trying: while the database is down nobody can claim
// anything anyway.
func (i *Instance) Run(ctx context.Context) error {
	t := time.NewTicker(i.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if _, err := i.db.Write().ExecContext(dctx, "DELETE FROM instances WHERE id = ?", i.id); err != nil {
				i.log.WarnContext(ctx, "instance not removed; its claims free up once its heartbeat is stale", slog.String("error", err.Error()))
			}
			return nil
		case <-t.C:
		}
		if err := i.beat(ctx); err != nil && ctx.Err() == nil {
			i.log.WarnContext(ctx, "instance heartbeat failed", slog.String("error", err.Error()))
		}
	}
}

// beat refreshes the heartbeat and drops instances dead for long (a crash leaves its row).
func (i *Instance) beat(ctx context.Context) error {
	now := i.now()
	res, err := i.db.Write().ExecContext(ctx, "UPDATE instances SET heartbeat_at = ? WHERE id = ?", sqldb.Time(now), i.id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		// Another process judged us dead (a long stall) and removed us: come back, so our
		// claims from now on are honoured; work it took over may run twice, which every
		// claimant tolerates (at-least-once).
		if _, err := i.db.Write().ExecContext(ctx, "INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)",
			i.id, sqldb.Time(now), sqldb.Time(now)); err != nil {
			return err
		}
	}
	_, err = i.db.Write().ExecContext(ctx, "DELETE FROM instances WHERE heartbeat_at < ?", sqldb.Time(now.Add(-100*i.staleAfter)))
	return err
}

// Dead returns an SQL condition that is true when column (a claimer's instance id, NULL for
// no claim) names an instance that is not alive now, with its argument. Use it as
// "… OR " + cond in a claim query.
func (i *Instance) Dead(column string) (cond string, arg any) {
	return "(" + column + " IS NOT NULL AND " + column + " NOT IN (SELECT id FROM instances WHERE heartbeat_at > ?))",
		sqldb.Time(i.now().Add(-i.staleAfter))
}

// Alive reports whether instance id is alive now.
func (i *Instance) Alive(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	if id == i.id {
		return true, nil
	}
	var n int
	err := i.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM instances WHERE id = ? AND heartbeat_at > ?", id,
		sqldb.Time(i.now().Add(-i.staleAfter))).Scan(&n)
	return n > 0, err
}
