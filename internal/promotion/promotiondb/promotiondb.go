// Package promotiondb stores flash sales, their admitted attempts and buyers' counts in
// SQLite or MySQL with explicit SQL. The statements are the same on both engines; only the
// DDL, row locking and the two upserts differ.
package promotiondb

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/promotion"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the promotion module's schema.
var Migrations = sqldb.Migrations{Module: "promotion", FS: migrationFiles, Dir: "migrations"}

// Store implements promotion.Storer.
type Store struct{ db *sqldb.DB }

var _ promotion.Storer = (*Store)(nil)

// New returns a store over db.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

// ---- sales ----

const saleColumns = `id, sku_id, product_id, title, image, list_price, price, quantity, remaining, per_user_limit,
	starts_at, ends_at, status, fail_reason, settled_at, created_by, created_at, updated_at`

func scanSale(row sqldb.Scanner) (promotion.Sale, error) {
	var s promotion.Sale
	var settled sql.NullTime
	err := row.Scan(&s.ID, &s.SKUID, &s.ProductID, &s.Title, &s.Image, &s.ListPrice, &s.Price, &s.Quantity, &s.Remaining,
		&s.PerUserLimit, &s.StartsAt, &s.EndsAt, &s.Status, &s.FailReason, &settled, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return promotion.Sale{}, promotion.ErrSaleNotFound
	}
	if err != nil {
		return promotion.Sale{}, fmt.Errorf("scan flash sale: %w", err)
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.UpdatedAt = s.StartsAt.UTC(), s.EndsAt.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	s.SettledAt = sqldb.TimePtr(settled)
	return s, nil
}

func sales(ctx context.Context, q sqldb.Querier, query string, args ...any) ([]promotion.Sale, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select flash sales: %w", err)
	}
	defer rows.Close()
	out := []promotion.Sale{}
	for rows.Next() {
		s, err := scanSale(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// lockSKUSQL creates the SKU's lock row or touches it; either way the transaction then holds
// the row's exclusive lock until it ends, so sale creations of one SKU queue.
func lockSKUSQL(d sqldb.Dialect) string {
	if d == sqldb.MySQL {
		return "INSERT INTO flash_sale_skus (sku_id, updated_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at)"
	}
	return "INSERT INTO flash_sale_skus (sku_id, updated_at) VALUES (?, ?) ON CONFLICT (sku_id) DO UPDATE SET updated_at = excluded.updated_at"
}

// CreateSale inserts s under its SKU's lock, unless a live sale of the SKU overlaps it.
func (s *Store) CreateSale(ctx context.Context, sale promotion.Sale) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, lockSKUSQL(tx.Dialect), sale.SKUID, sqldb.Time(sale.CreatedAt)); err != nil {
			return fmt.Errorf("lock flash sale SKU: %w", err)
		}
		overlapping, err := sales(ctx, tx, "SELECT "+saleColumns+" FROM flash_sales WHERE sku_id = ? AND status IN (?, ?)"+
			" AND starts_at < ? AND ends_at > ? ORDER BY starts_at",
			sale.SKUID, promotion.Holding, promotion.Scheduled, sqldb.Time(sale.EndsAt), sqldb.Time(sale.StartsAt))
		if err != nil {
			return err
		}
		if len(overlapping) > 0 {
			list := make([]map[string]any, len(overlapping))
			for i, o := range overlapping {
				list[i] = map[string]any{"id": o.ID, "starts_at": o.StartsAt, "ends_at": o.EndsAt}
			}
			return promotion.ErrOverlap.With(map[string]any{"sales": list})
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO flash_sales ("+saleColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			sale.ID, sale.SKUID, sale.ProductID, sale.Title, sale.Image, sale.ListPrice, sale.Price, sale.Quantity, sale.Remaining,
			sale.PerUserLimit, sqldb.Time(sale.StartsAt), sqldb.Time(sale.EndsAt), sale.Status, sale.FailReason,
			sqldb.NullTime(sale.SettledAt), sale.CreatedBy, sqldb.Time(sale.CreatedAt), sqldb.Time(sale.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert flash sale: %w", err)
		}
		return nil
	})
}

// Sale reads a sale from the read pool.
func (s *Store) Sale(ctx context.Context, id ids.ID) (promotion.Sale, error) {
	return scanSale(s.db.Read().QueryRowContext(ctx, "SELECT "+saleColumns+" FROM flash_sales WHERE id = ?", id))
}

// phaseCondition is the SQL condition of a phase at now, with its arguments.
func phaseCondition(p promotion.Phase, now time.Time) (string, []any) {
	t := sqldb.Time(now)
	switch p {
	case promotion.PhasePending:
		return "status = ?", []any{promotion.Holding}
	case promotion.PhaseUpcoming:
		return "(status = ? AND starts_at > ?)", []any{promotion.Scheduled, t}
	case promotion.PhaseActive:
		return "(status = ? AND starts_at <= ? AND ends_at > ?)", []any{promotion.Scheduled, t, t}
	case promotion.PhaseEnded:
		return "(status = ? OR (status = ? AND ends_at <= ?))", []any{promotion.Ended, promotion.Scheduled, t}
	case promotion.PhaseCancelled:
		return "status = ?", []any{promotion.Cancelled}
	default:
		return "status = ?", []any{promotion.Failed}
	}
}

// Sales lists sales newest first (ids are time-ordered).
func (s *Store) Sales(ctx context.Context, f promotion.SaleFilter) ([]promotion.Sale, error) {
	where, args := []string{"1 = 1"}, []any{}
	if len(f.Phases) > 0 {
		conds := make([]string, len(f.Phases))
		for i, p := range f.Phases {
			c, a := phaseCondition(p, f.Now)
			conds[i] = c
			args = append(args, a...)
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	return sales(ctx, s.db.Read(), "SELECT "+saleColumns+" FROM flash_sales WHERE "+strings.Join(where, " AND ")+
		" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
}

// CurrentSales lists scheduled sales not ended at now, soonest first.
func (s *Store) CurrentSales(ctx context.Context, now time.Time, limit int) ([]promotion.Sale, error) {
	return sales(ctx, s.db.Read(), "SELECT "+saleColumns+" FROM flash_sales WHERE status = ? AND ends_at > ?"+
		" ORDER BY starts_at, id LIMIT ?", promotion.Scheduled, sqldb.Time(now), limit)
}

func lockSale(ctx context.Context, tx *sqldb.Tx, id ids.ID) (promotion.Sale, error) {
	return scanSale(tx.QueryRowContext(ctx, "SELECT "+saleColumns+" FROM flash_sales WHERE id = ?"+tx.ForUpdate(), id))
}

// SetSaleStatus moves a sale between statuses under its row lock.
func (s *Store) SetSaleStatus(ctx context.Context, id ids.ID, from []promotion.SaleStatus, to promotion.SaleStatus,
	failReason string, settled bool, now time.Time) (promotion.Sale, bool, error) {
	var out promotion.Sale
	var changed bool
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		sale, err := lockSale(ctx, tx, id)
		if err != nil {
			return err
		}
		out, changed = sale, false
		if !slices.Contains(from, sale.Status) {
			return nil
		}
		now := sqldb.Time(now)
		sale.Status, sale.FailReason, sale.UpdatedAt = to, failReason, now
		if settled {
			sale.SettledAt = &now
		}
		if _, err := tx.ExecContext(ctx, "UPDATE flash_sales SET status = ?, fail_reason = ?, settled_at = ?, updated_at = ? WHERE id = ?",
			sale.Status, sale.FailReason, sqldb.NullTime(sale.SettledAt), now, id); err != nil {
			return fmt.Errorf("update flash sale status: %w", err)
		}
		out, changed = sale, true
		return nil
	})
	return out, changed, err
}

// SalesHolding lists sales still holding, created before before.
func (s *Store) SalesHolding(ctx context.Context, before time.Time, limit int) ([]promotion.Sale, error) {
	return sales(ctx, s.db.Read(), "SELECT "+saleColumns+" FROM flash_sales WHERE status = ? AND created_at < ? ORDER BY id LIMIT ?",
		promotion.Holding, sqldb.Time(before), limit)
}

// EndDue ends the scheduled sales whose time is up. The UPDATE takes each row's lock, which
// a batch of attempts holds while it decides: no attempt is admitted after.
func (s *Store) EndDue(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.Write().ExecContext(ctx, "UPDATE flash_sales SET status = ?, updated_at = ? WHERE status = ? AND ends_at <= ?",
		promotion.Ended, sqldb.Time(now), promotion.Scheduled, sqldb.Time(now))
	if err != nil {
		return 0, fmt.Errorf("end flash sales: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Settleable lists finished sales not yet settled with no attempt still accepted.
func (s *Store) Settleable(ctx context.Context, limit int) ([]promotion.Sale, error) {
	return sales(ctx, s.db.Read(), "SELECT "+saleColumns+" FROM flash_sales s WHERE status IN (?, ?, ?) AND settled_at IS NULL"+
		" AND NOT EXISTS (SELECT 1 FROM flash_attempts a WHERE a.sale_id = s.id AND a.status = ?) ORDER BY id LIMIT ?",
		promotion.Ended, promotion.Cancelled, promotion.Failed, promotion.Accepted, limit)
}

// MarkSettled records the release of a sale's hold.
func (s *Store) MarkSettled(ctx context.Context, id ids.ID, now time.Time) error {
	if _, err := s.db.Write().ExecContext(ctx, "UPDATE flash_sales SET settled_at = ?, updated_at = ? WHERE id = ? AND settled_at IS NULL",
		sqldb.Time(now), sqldb.Time(now), id); err != nil {
		return fmt.Errorf("settle flash sale: %w", err)
	}
	return nil
}

// ---- attempts ----

const attemptColumns = `id, sale_id, user_id, address_id, quantity, status, order_id, order_no, reason, tries,
	returned_at, idem_key, request_hash, created_at, updated_at`

func scanAttempt(row sqldb.Scanner) (promotion.Attempt, error) {
	var a promotion.Attempt
	var orderID sql.NullInt64
	var orderNo sql.NullString
	var returned sql.NullTime
	err := row.Scan(&a.ID, &a.SaleID, &a.UserID, &a.AddressID, &a.Quantity, &a.Status, &orderID, &orderNo, &a.Reason,
		&a.Tries, &returned, &a.IdempotencyKey, &a.RequestHash, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return promotion.Attempt{}, promotion.ErrAttemptNotFound
	}
	if err != nil {
		return promotion.Attempt{}, fmt.Errorf("scan flash attempt: %w", err)
	}
	a.OrderID, a.OrderNo = ids.ID(orderID.Int64), orderNo.String
	a.ReturnedAt = sqldb.TimePtr(returned)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

func attempts(ctx context.Context, q sqldb.Querier, query string, args ...any) ([]promotion.Attempt, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select flash attempts: %w", err)
	}
	defer rows.Close()
	var out []promotion.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attempt reads an attempt from the read pool.
func (s *Store) Attempt(ctx context.Context, id ids.ID) (promotion.Attempt, error) {
	return scanAttempt(s.db.Read().QueryRowContext(ctx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE id = ?", id))
}

// addBoughtSQL adds to buyers' counts, creating the rows of new buyers; the VALUES list is
// appended by the caller.
func addBoughtSQL(d sqldb.Dialect, rows int) string {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", rows), ", ")
	if d == sqldb.MySQL {
		return "INSERT INTO flash_buyers (sale_id, user_id, bought) VALUES " + values + " ON DUPLICATE KEY UPDATE bought = bought + VALUES(bought)"
	}
	return "INSERT INTO flash_buyers (sale_id, user_id, bought) VALUES " + values + " ON CONFLICT (sale_id, user_id) DO UPDATE SET bought = bought + excluded.bought"
}

// RecordAttempts decides and records a batch of attempts in one transaction. The sales are
// locked first, in ascending id order, so that batches of several sales never wait on each
// other in a cycle; everything read after is consistent with those locks, since every write
// of a sale's remaining and buyers' counts takes the sale's lock first.
func (s *Store) RecordAttempts(ctx context.Context, q promotion.AdmissionQuery, decide func(promotion.AdmissionState) ([]promotion.Attempt, error)) error {
	saleIDs := slices.Clone(q.SaleIDs)
	slices.Sort(saleIDs)
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		st := promotion.AdmissionState{Sales: map[ids.ID]promotion.Sale{}, Bought: map[promotion.SaleBuyer]int{},
			Keys: map[promotion.BuyerKey]promotion.Attempt{}}
		in, args := sqldb.InList(saleIDs)
		locked, err := sales(ctx, tx, "SELECT "+saleColumns+" FROM flash_sales WHERE id IN ("+in+") ORDER BY id"+tx.ForUpdate(), args...)
		if err != nil {
			return err
		}
		for _, sale := range locked {
			st.Sales[sale.ID] = sale
		}
		if err := readBought(ctx, tx, q.Buyers, st.Bought); err != nil {
			return err
		}
		if err := readKeys(ctx, tx, q.Keys, st.Keys); err != nil {
			return err
		}
		accept, err := decide(st)
		if err != nil || len(accept) == 0 {
			return err
		}
		return writeAccepted(ctx, tx, accept)
	})
}

// readBought reads the counts of buyers, one query per sale.
func readBought(ctx context.Context, tx *sqldb.Tx, buyers []promotion.SaleBuyer, into map[promotion.SaleBuyer]int) error {
	bySale := map[ids.ID][]ids.ID{}
	for _, b := range buyers {
		bySale[b.SaleID] = append(bySale[b.SaleID], b.UserID)
	}
	for saleID, users := range bySale {
		in, args := sqldb.InList(users)
		rows, err := tx.QueryContext(ctx, "SELECT user_id, bought FROM flash_buyers WHERE sale_id = ? AND user_id IN ("+in+")"+tx.ForUpdate(),
			append([]any{saleID}, args...)...)
		if err != nil {
			return fmt.Errorf("select flash buyers: %w", err)
		}
		for rows.Next() {
			var user ids.ID
			var n int
			if err := rows.Scan(&user, &n); err != nil {
				rows.Close()
				return err
			}
			into[promotion.SaleBuyer{SaleID: saleID, UserID: user}] = n
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	return nil
}

// readKeys finds the attempts recorded under keys: each (user_id, idem_key) pair is an
// equality on the unique index, which both engines read as one range per pair.
func readKeys(ctx context.Context, tx *sqldb.Tx, keys []promotion.BuyerKey, into map[promotion.BuyerKey]promotion.Attempt) error {
	if len(keys) == 0 {
		return nil
	}
	conds := make([]string, len(keys))
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		conds[i] = "(user_id = ? AND idem_key = ?)"
		args = append(args, k.UserID, k.Key)
	}
	list, err := attempts(ctx, tx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE "+strings.Join(conds, " OR "), args...)
	if err != nil {
		return err
	}
	for _, a := range list {
		into[promotion.BuyerKey{UserID: a.UserID, Key: a.IdempotencyKey}] = a
	}
	return nil
}

// writeAccepted inserts accepted attempts with one statement, takes their units off each
// sale once and adds them to the buyers' counts with one upsert.
func writeAccepted(ctx context.Context, tx *sqldb.Tx, accept []promotion.Attempt) error {
	const cols = 17
	placeholders := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	values := make([]string, len(accept))
	args := make([]any, 0, cols*len(accept))
	taken := map[ids.ID]int{}
	added := map[promotion.SaleBuyer]int{}
	for i, a := range accept {
		values[i] = placeholders
		args = append(args, a.ID, a.SaleID, a.UserID, a.AddressID, a.Quantity, a.Status, nil, nil, a.Reason, a.Tries,
			sqldb.Time(a.CreatedAt), nil, a.IdempotencyKey, a.RequestHash, sqldb.Time(a.CreatedAt), sqldb.Time(a.UpdatedAt), nil)
		taken[a.SaleID] += a.Quantity
		added[promotion.SaleBuyer{SaleID: a.SaleID, UserID: a.UserID}] += a.Quantity
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO flash_attempts (id, sale_id, user_id, address_id, quantity, status, order_id,
		order_no, reason, tries, next_try_at, claimed_by, idem_key, request_hash, created_at, updated_at, returned_at) VALUES `+
		strings.Join(values, ", "), args...); err != nil {
		return fmt.Errorf("insert flash attempts: %w", err)
	}
	now := sqldb.Time(accept[0].UpdatedAt)
	for saleID, n := range taken {
		res, err := tx.ExecContext(ctx, "UPDATE flash_sales SET remaining = remaining - ?, updated_at = ? WHERE id = ? AND remaining >= ?",
			n, now, saleID, n)
		if err != nil {
			return fmt.Errorf("take flash sale units: %w", err)
		}
		if changed, err := res.RowsAffected(); err != nil || changed != 1 {
			// decide admitted more than the sale has: a bug, never an oversell.
			return errors.Join(err, fmt.Errorf("flash sale %s: %d units admitted beyond its remaining", saleID, n))
		}
	}
	buyers := make([]promotion.SaleBuyer, 0, len(added))
	for b := range added {
		buyers = append(buyers, b)
	}
	// A stable order: concurrent batches touch buyer rows in the same order.
	slices.SortFunc(buyers, func(a, b promotion.SaleBuyer) int {
		return cmp.Or(cmp.Compare(a.SaleID, b.SaleID), cmp.Compare(a.UserID, b.UserID))
	})
	bargs := make([]any, 0, 3*len(buyers))
	for _, b := range buyers {
		bargs = append(bargs, b.SaleID, b.UserID, added[b])
	}
	if _, err := tx.ExecContext(ctx, addBoughtSQL(tx.Dialect, len(buyers)), bargs...); err != nil {
		return fmt.Errorf("count flash buyers: %w", err)
	}
	return nil
}

// AdmissionSnapshot reads a sale's remaining, buyers' counts and attempt keys under the
// sale's lock, so no batch is half seen.
func (s *Store) AdmissionSnapshot(ctx context.Context, saleID ids.ID) (promotion.FilterState, error) {
	var st promotion.FilterState
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		st = promotion.FilterState{Bought: map[ids.ID]int{}}
		sale, err := lockSale(ctx, tx, saleID)
		if err != nil {
			return err
		}
		st.Remaining = sale.Remaining
		rows, err := tx.QueryContext(ctx, "SELECT user_id, bought FROM flash_buyers WHERE sale_id = ?", saleID)
		if err != nil {
			return fmt.Errorf("select flash buyers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var user ids.ID
			var n int
			if err := rows.Scan(&user, &n); err != nil {
				return err
			}
			st.Bought[user] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		keys, err := tx.QueryContext(ctx, "SELECT user_id, idem_key FROM flash_attempts WHERE sale_id = ?", saleID)
		if err != nil {
			return fmt.Errorf("select flash attempt keys: %w", err)
		}
		defer keys.Close()
		for keys.Next() {
			var k promotion.BuyerKey
			if err := keys.Scan(&k.UserID, &k.Key); err != nil {
				return err
			}
			st.Keys = append(st.Keys, k)
		}
		return keys.Err()
	})
	return st, err
}

// BuyerRecord reads a buyer's count and the attempt under key, from the read pool.
func (s *Store) BuyerRecord(ctx context.Context, saleID, userID ids.ID, key string) (int, promotion.Attempt, bool, error) {
	var bought int
	err := s.db.Read().QueryRowContext(ctx, "SELECT bought FROM flash_buyers WHERE sale_id = ? AND user_id = ?", saleID, userID).Scan(&bought)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, promotion.Attempt{}, false, fmt.Errorf("select flash buyer: %w", err)
	}
	a, err := scanAttempt(s.db.Read().QueryRowContext(ctx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE user_id = ? AND idem_key = ?",
		userID, key))
	switch {
	case errors.Is(err, promotion.ErrAttemptNotFound):
		return bought, promotion.Attempt{}, false, nil
	case err != nil:
		return 0, promotion.Attempt{}, false, err
	}
	return bought, a, true, nil
}

// ClaimAccepted claims due accepted attempts for by.
func (s *Store) ClaimAccepted(ctx context.Context, by promotion.Claimant, now time.Time, limit int) ([]promotion.Attempt, error) {
	var out []promotion.Attempt
	dead, deadArg := by.Dead("claimed_by")
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		list, err := attempts(ctx, tx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE status = ? AND next_try_at <= ?"+
			" AND (claimed_by IS NULL OR "+dead+" OR claimed_by = ?) ORDER BY next_try_at, id LIMIT ?"+s.db.SkipLocked(),
			promotion.Accepted, sqldb.Time(now), deadArg, by.ID(), limit)
		if err != nil || len(list) == 0 {
			out = nil
			return err
		}
		idList := make([]ids.ID, len(list))
		for i, a := range list {
			idList[i] = a.ID
		}
		in, args := sqldb.InList(idList)
		if _, err := tx.ExecContext(ctx, "UPDATE flash_attempts SET claimed_by = ? WHERE id IN ("+in+")",
			append([]any{by.ID()}, args...)...); err != nil {
			return fmt.Errorf("claim flash attempts: %w", err)
		}
		out = list
		return nil
	})
	return out, err
}

// MarkOrdered records the orders of accepted attempts in one transaction.
func (s *Store) MarkOrdered(ctx context.Context, list []promotion.OrderedAttempt, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		for _, o := range list {
			if _, err := tx.ExecContext(ctx, "UPDATE flash_attempts SET status = ?, order_id = ?, order_no = ?, claimed_by = NULL, updated_at = ?"+
				" WHERE id = ? AND status = ?", promotion.Ordered, o.Order.ID, o.Order.OrderNo, sqldb.Time(now), o.AttemptID,
				promotion.Accepted); err != nil {
				return fmt.Errorf("mark flash attempt ordered: %w", err)
			}
		}
		return nil
	})
}

// RetryLater frees claimed attempts until next.
func (s *Store) RetryLater(ctx context.Context, attemptIDs []ids.ID, next time.Time) error {
	if len(attemptIDs) == 0 {
		return nil
	}
	in, args := sqldb.InList(attemptIDs)
	if _, err := s.db.Write().ExecContext(ctx, "UPDATE flash_attempts SET tries = tries + 1, next_try_at = ?, claimed_by = NULL"+
		" WHERE status = ? AND id IN ("+in+")", append([]any{sqldb.Time(next), promotion.Accepted}, args...)...); err != nil {
		return fmt.Errorf("retry flash attempts later: %w", err)
	}
	return nil
}

// giveBack returns units to a locked sale and takes them off the buyer's count.
func giveBack(ctx context.Context, tx *sqldb.Tx, a promotion.Attempt, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "UPDATE flash_sales SET remaining = remaining + ?, updated_at = ? WHERE id = ?",
		a.Quantity, now, a.SaleID); err != nil {
		return fmt.Errorf("give units back to flash sale: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE flash_buyers SET bought = bought - ? WHERE sale_id = ? AND user_id = ? AND bought >= ?",
		a.Quantity, a.SaleID, a.UserID, a.Quantity); err != nil {
		return fmt.Errorf("give back flash buyer's count: %w", err)
	}
	return nil
}

// FailAttempt fails an accepted attempt and gives its units back, under the sale's lock.
func (s *Store) FailAttempt(ctx context.Context, attemptID ids.ID, reason string, now time.Time) (promotion.Attempt, bool, error) {
	var out promotion.Attempt
	var failed bool
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		failed = false
		a, err := scanAttempt(tx.QueryRowContext(ctx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE id = ?", attemptID))
		if err != nil {
			return err
		}
		out = a
		// The sale first, as every writer of its remaining and counts locks it first.
		if _, err := lockSale(ctx, tx, a.SaleID); err != nil {
			return err
		}
		now := sqldb.Time(now)
		res, err := tx.ExecContext(ctx, "UPDATE flash_attempts SET status = ?, reason = ?, claimed_by = NULL, updated_at = ? WHERE id = ? AND status = ?",
			promotion.AttemptFailed, reason, now, attemptID, promotion.Accepted)
		if err != nil {
			return fmt.Errorf("fail flash attempt: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := giveBack(ctx, tx, a, now); err != nil {
			return err
		}
		out.Status, out.Reason, out.UpdatedAt, failed = promotion.AttemptFailed, reason, now, true
		return nil
	})
	return out, failed, err
}

// ReturnOrder gives back the units of a cancelled order's attempt while its sale runs.
func (s *Store) ReturnOrder(ctx context.Context, orderID ids.ID, now time.Time) (promotion.Attempt, bool, error) {
	var out promotion.Attempt
	var returned bool
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		returned = false
		a, err := scanAttempt(tx.QueryRowContext(ctx, "SELECT "+attemptColumns+" FROM flash_attempts WHERE order_id = ?", orderID))
		if err != nil {
			return err
		}
		out = a
		sale, err := lockSale(ctx, tx, a.SaleID)
		if err != nil {
			return err
		}
		if sale.PhaseAt(now) != promotion.PhaseActive {
			return nil
		}
		now := sqldb.Time(now)
		res, err := tx.ExecContext(ctx, "UPDATE flash_attempts SET returned_at = ?, updated_at = ? WHERE id = ? AND status = ? AND returned_at IS NULL",
			now, now, a.ID, promotion.Ordered)
		if err != nil {
			return fmt.Errorf("mark flash attempt returned: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := giveBack(ctx, tx, a, now); err != nil {
			return err
		}
		out.ReturnedAt, out.UpdatedAt, returned = &now, now, true
		return nil
	})
	return out, returned, err
}
