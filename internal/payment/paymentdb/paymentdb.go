// Package paymentdb stores payments, refunds, the notify log and the Idempotency-Keys of
// payment requests, in SQLite or MySQL with explicit SQL. The statements are the same on
// both engines; only the DDL and row locking differ.
package paymentdb

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the payment module's schema.
var Migrations = sqldb.Migrations{Module: "payment", FS: migrationFiles, Dir: "migrations"}

// Store implements payment.Storer.
type Store struct {
	db     *sqldb.DB
	outbox *events.Outbox
}

var _ payment.Storer = (*Store)(nil)

// New returns a store over db writing events to outbox.
func New(db *sqldb.DB, outbox *events.Outbox) *Store { return &Store{db: db, outbox: outbox} }

// ---- idempotency keys ----

// Key reads a used key.
func (s *Store) Key(ctx context.Context, scope, key string) (payment.Idempotency, bool, error) {
	var k payment.Idempotency
	err := s.db.Read().QueryRowContext(ctx, `SELECT scope, idem_key, request_hash, result_id, created_at
		FROM payment_idempotency WHERE scope = ? AND idem_key = ?`, scope, key).
		Scan(&k.Scope, &k.Key, &k.RequestHash, &k.ResultID, &k.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return payment.Idempotency{}, false, nil
	}
	if err != nil {
		return payment.Idempotency{}, false, fmt.Errorf("select payment idempotency key: %w", err)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, true, nil
}

// SaveKey records a used key; the primary key decides between concurrent requests.
func (s *Store) SaveKey(ctx context.Context, k payment.Idempotency) (payment.Idempotency, bool, error) {
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO payment_idempotency (scope, idem_key, request_hash, result_id, created_at)
		VALUES (?, ?, ?, ?, ?)`, k.Scope, k.Key, k.RequestHash, k.ResultID, sqldb.Time(k.CreatedAt))
	if err == nil {
		return k, true, nil
	}
	if !sqldb.IsUniqueViolation(err) {
		return payment.Idempotency{}, false, fmt.Errorf("insert payment idempotency key: %w", err)
	}
	existing, found, err := s.Key(ctx, k.Scope, k.Key)
	if err == nil && !found {
		err = errors.New("payment idempotency key vanished")
	}
	return existing, false, err
}

// ---- payments ----

const paymentColumns = `id, order_id, order_no, user_id, provider, method, amount, refunded, status, transaction_id,
	instructions, expires_at, paid_at, closed_at, next_query_at, query_attempts, created_at, updated_at`

func scanPayment(row sqldb.Scanner) (payment.Payment, error) {
	var p payment.Payment
	var instructions string
	var paidAt, closedAt, nextQuery sql.NullTime
	err := row.Scan(&p.ID, &p.OrderID, &p.OrderNo, &p.UserID, &p.Provider, &p.Method, &p.Amount, &p.Refunded, &p.Status,
		&p.TransactionID, &instructions, &p.ExpiresAt, &paidAt, &closedAt, &nextQuery, &p.QueryAttempts, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return payment.Payment{}, payment.ErrPaymentNotFound
	}
	if err != nil {
		return payment.Payment{}, fmt.Errorf("scan payment: %w", err)
	}
	if err := json.Unmarshal([]byte(instructions), &p.Instructions); err != nil {
		return payment.Payment{}, fmt.Errorf("payment %s instructions: %w", p.ID, err)
	}
	p.PaidAt, p.ClosedAt, p.NextQueryAt = sqldb.TimePtr(paidAt), sqldb.TimePtr(closedAt), sqldb.TimePtr(nextQuery)
	p.ExpiresAt, p.CreatedAt, p.UpdatedAt = p.ExpiresAt.UTC(), p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

func paymentWhere(ctx context.Context, q sqldb.Querier, suffix, where string, args ...any) (payment.Payment, error) {
	return scanPayment(q.QueryRowContext(ctx, "SELECT "+paymentColumns+" FROM payments WHERE "+where+suffix, args...))
}

// StartPayment inserts p, or returns the order's payment with this provider; a pending one
// takes the new method. The insert comes first: a locking read of a row that is not there yet
// takes a gap lock on MySQL, and buyers paying different orders at once then deadlock on
// each other's inserts; the unique (order_no, provider) decides a race for the same order.
func (s *Store) StartPayment(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	var out payment.Payment
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO payments ("+paymentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, '', '{}', ?, NULL, NULL, ?, 0, ?, ?)`,
			p.ID, p.OrderID, p.OrderNo, p.UserID, p.Provider, p.Method, p.Amount, p.Status, sqldb.Time(p.ExpiresAt),
			sqldb.NullTime(p.NextQueryAt), sqldb.Time(p.CreatedAt), sqldb.Time(p.UpdatedAt))
		if err == nil {
			out = p
			return nil
		}
		if !sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("insert payment: %w", err)
		}
		// Concurrent starts of one order all hold a shared lock on the duplicate key now;
		// reading it FOR UPDATE in each would deadlock them (MySQL). Only a change of method
		// needs the row locked.
		existing, err := paymentWhere(ctx, tx, "", "order_no = ? AND provider = ?", p.OrderNo, p.Provider)
		if err != nil {
			return err
		}
		if existing.Status == payment.Pending && existing.Method != p.Method {
			if existing, err = paymentWhere(ctx, tx, tx.ForUpdate(), "order_no = ? AND provider = ?", p.OrderNo, p.Provider); err != nil {
				return err
			}
		}
		if existing.Status == payment.Pending && existing.Method != p.Method {
			existing.Method = p.Method
			if _, err := tx.ExecContext(ctx, "UPDATE payments SET method = ?, updated_at = ? WHERE id = ?",
				p.Method, sqldb.Time(p.UpdatedAt), existing.ID); err != nil {
				return fmt.Errorf("update payment method: %w", err)
			}
		}
		out = existing
		return nil
	})
	return out, err
}

// SetInstructions keeps what the buyer's client needs to pay.
func (s *Store) SetInstructions(ctx context.Context, id ids.ID, in payment.Instructions) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = s.db.Write().ExecContext(ctx, "UPDATE payments SET instructions = ? WHERE id = ?", string(raw), id)
	if err != nil {
		return fmt.Errorf("update payment instructions: %w", err)
	}
	return nil
}

// Payment reads a payment.
func (s *Store) Payment(ctx context.Context, id ids.ID) (payment.Payment, error) {
	return paymentWhere(ctx, s.db.Read(), "", "id = ?", id)
}

// PaymentByTradeNo reads the order's payment through a provider.
func (s *Store) PaymentByTradeNo(ctx context.Context, provider, outTradeNo string) (payment.Payment, error) {
	return paymentWhere(ctx, s.db.Read(), "", "order_no = ? AND provider = ?", outTradeNo, provider)
}

// PaymentsOfOrder lists an order's payments, oldest first.
func (s *Store) PaymentsOfOrder(ctx context.Context, orderID ids.ID) ([]payment.Payment, error) {
	return s.payments(ctx, s.db.Read(), "order_id = ? ORDER BY id", orderID)
}

func (s *Store) payments(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]payment.Payment, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+paymentColumns+" FROM payments WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("select payments: %w", err)
	}
	defer rows.Close()
	out := []payment.Payment{}
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePayment changes a locked payment and writes fn's events in the same transaction.
func (s *Store) UpdatePayment(ctx context.Context, id ids.ID, fn func(*payment.Payment) ([]events.Event, error)) (payment.Payment, error) {
	var out payment.Payment
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		p, err := paymentWhere(ctx, tx, tx.ForUpdate(), "id = ?", id)
		if err != nil {
			return err
		}
		evs, err := fn(&p)
		if err != nil {
			return err
		}
		if err := updatePayment(ctx, tx, p); err != nil {
			return err
		}
		if err := s.outbox.Write(ctx, tx, evs...); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// MarkSucceeded applies a success once: the status condition of the UPDATE picks the one
// transaction among concurrent ones that changes the row and writes the event.
func (s *Store) MarkSucceeded(ctx context.Context, id ids.ID, transactionID string, paidAt, now time.Time, ev events.Event) (bool, error) {
	applied := false
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payments SET status = ?, transaction_id = ?, paid_at = ?, closed_at = NULL,
			next_query_at = NULL, updated_at = ? WHERE id = ? AND status <> ?`,
			payment.Succeeded, transactionID, sqldb.Time(paidAt), sqldb.Time(now), id, payment.Succeeded)
		if err != nil {
			return fmt.Errorf("mark payment succeeded: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		applied = true
		return s.outbox.Write(ctx, tx, ev)
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

func updatePayment(ctx context.Context, tx *sqldb.Tx, p payment.Payment) error {
	_, err := tx.ExecContext(ctx, `UPDATE payments SET method = ?, refunded = ?, status = ?, transaction_id = ?,
		paid_at = ?, closed_at = ?, next_query_at = ?, query_attempts = ?, updated_at = ? WHERE id = ?`,
		p.Method, p.Refunded, p.Status, p.TransactionID, sqldb.NullTime(p.PaidAt), sqldb.NullTime(p.ClosedAt), sqldb.NullTime(p.NextQueryAt),
		p.QueryAttempts, sqldb.Time(p.UpdatedAt), p.ID)
	if err != nil {
		return fmt.Errorf("update payment: %w", err)
	}
	return nil
}

// ClaimDuePayments claims pending payments whose query is due, skipping rows another
// instance holds, and moves their next query on before committing.
func (s *Store) ClaimDuePayments(ctx context.Context, now time.Time, next func(payment.Payment) time.Time, limit int, by payment.Claimant) ([]payment.Payment, error) {
	var out []payment.Payment
	due, args := dueClause(now, by)
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		list, err := s.payments(ctx, tx, "status = ? AND "+due+" ORDER BY next_query_at, id LIMIT ?"+s.db.SkipLocked(),
			append(append([]any{payment.Pending}, args...), limit)...)
		if err != nil {
			return err
		}
		for i := range list {
			at := sqldb.Time(next(list[i]))
			list[i].NextQueryAt = &at
			list[i].QueryAttempts++
			if _, err := tx.ExecContext(ctx, "UPDATE payments SET next_query_at = ?, query_attempts = ?, query_claimed_by = ? WHERE id = ?",
				at, list[i].QueryAttempts, claimer(by), list[i].ID); err != nil {
				return fmt.Errorf("claim payment: %w", err)
			}
		}
		out = list
		return nil
	})
	return out, err
}

// dueClause selects rows whose query is due, or whose querier died mid-query.
func dueClause(now time.Time, by payment.Claimant) (string, []any) {
	if by == nil {
		return "next_query_at <= ?", []any{sqldb.Time(now)}
	}
	// This instance's own claims count as due too: one querier runs per instance, so any it
	// holds belong to a sweep that failed before releasing them.
	dead, arg := by.Dead("query_claimed_by")
	return "(next_query_at <= ? OR " + dead + " OR query_claimed_by = ?)", []any{sqldb.Time(now), arg, by.ID()}
}

// claimer is the value of a claim column: the instance, or NULL without one.
func claimer(by payment.Claimant) any {
	if by == nil {
		return nil
	}
	return by.ID()
}

// ReleasePaymentClaim ends by's query claim on a payment (a claim another instance took
// over stays).
func (s *Store) ReleasePaymentClaim(ctx context.Context, id ids.ID, by payment.Claimant) error {
	return s.releaseClaim(ctx, "payments", id, by)
}

// ReleaseRefundClaim ends by's query claim on a refund.
func (s *Store) ReleaseRefundClaim(ctx context.Context, id ids.ID, by payment.Claimant) error {
	return s.releaseClaim(ctx, "payment_refunds", id, by)
}

func (s *Store) releaseClaim(ctx context.Context, table string, id ids.ID, by payment.Claimant) error {
	if by == nil {
		return nil
	}
	if _, err := s.db.Write().ExecContext(ctx, "UPDATE "+table+" SET query_claimed_by = NULL WHERE id = ? AND query_claimed_by = ?",
		id, by.ID()); err != nil {
		return fmt.Errorf("release query claim: %w", err)
	}
	return nil
}

// ---- refunds ----

const refundColumns = `id, payment_id, order_id, order_no, out_refund_no, amount, reason, status, automatic,
	requested_by, refund_id, next_query_at, created_at, completed_at`

func scanRefund(row sqldb.Scanner) (payment.Refund, error) {
	var r payment.Refund
	var nextQuery, completed sql.NullTime
	err := row.Scan(&r.ID, &r.PaymentID, &r.OrderID, &r.OrderNo, &r.OutRefundNo, &r.Amount, &r.Reason, &r.Status,
		&r.Automatic, &r.RequestedBy, &r.RefundID, &nextQuery, &r.CreatedAt, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return payment.Refund{}, payment.ErrRefundNotFound
	}
	if err != nil {
		return payment.Refund{}, fmt.Errorf("scan refund: %w", err)
	}
	r.NextQueryAt, r.CompletedAt, r.CreatedAt = sqldb.TimePtr(nextQuery), sqldb.TimePtr(completed), r.CreatedAt.UTC()
	return r, nil
}

func (s *Store) refunds(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]payment.Refund, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+refundColumns+" FROM payment_refunds WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("select refunds: %w", err)
	}
	defer rows.Close()
	out := []payment.Refund{}
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateRefund stores r after check approves it against the locked payment and its refunds.
func (s *Store) CreateRefund(ctx context.Context, r payment.Refund, check func(payment.Payment, []payment.Refund) error) (payment.Refund, bool, error) {
	var out payment.Refund
	created := false
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		p, err := paymentWhere(ctx, tx, tx.ForUpdate(), "id = ?", r.PaymentID)
		if err != nil {
			return err
		}
		same, err := s.refunds(ctx, tx, "out_refund_no = ?", r.OutRefundNo)
		if err != nil {
			return err
		}
		if len(same) == 1 {
			out = same[0]
			return nil
		}
		existing, err := s.refunds(ctx, tx, "payment_id = ? ORDER BY id", r.PaymentID)
		if err != nil {
			return err
		}
		if err := check(p, existing); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO payment_refunds ("+refundColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, NULL)`,
			r.ID, r.PaymentID, r.OrderID, r.OrderNo, r.OutRefundNo, r.Amount, r.Reason, r.Status, r.Automatic,
			r.RequestedBy, sqldb.NullTime(r.NextQueryAt), sqldb.Time(r.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert refund: %w", err)
		}
		out, created = r, true
		return nil
	})
	return out, created, err
}

// Refund reads a refund.
func (s *Store) Refund(ctx context.Context, id ids.ID) (payment.Refund, error) {
	return scanRefund(s.db.Read().QueryRowContext(ctx, "SELECT "+refundColumns+" FROM payment_refunds WHERE id = ?", id))
}

// RefundByOutNo reads a refund by our refund number.
func (s *Store) RefundByOutNo(ctx context.Context, outRefundNo string) (payment.Refund, error) {
	return scanRefund(s.db.Read().QueryRowContext(ctx, "SELECT "+refundColumns+" FROM payment_refunds WHERE out_refund_no = ?", outRefundNo))
}

// RefundsOfOrder lists an order's refunds, oldest first.
func (s *Store) RefundsOfOrder(ctx context.Context, orderID ids.ID) ([]payment.Refund, error) {
	return s.refunds(ctx, s.db.Read(), "order_id = ? ORDER BY id", orderID)
}

// UpdateRefund changes a locked refund and its locked payment and writes fn's events.
func (s *Store) UpdateRefund(ctx context.Context, id ids.ID, fn func(*payment.Refund, *payment.Payment) ([]events.Event, error)) (payment.Refund, error) {
	var out payment.Refund
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		// The payment is locked first, as CreateRefund does, so the two never deadlock.
		var paymentID ids.ID
		if err := tx.QueryRowContext(ctx, "SELECT payment_id FROM payment_refunds WHERE id = ?", id).Scan(&paymentID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return payment.ErrRefundNotFound
			}
			return fmt.Errorf("select refund: %w", err)
		}
		p, err := paymentWhere(ctx, tx, tx.ForUpdate(), "id = ?", paymentID)
		if err != nil {
			return err
		}
		r, err := scanRefund(tx.QueryRowContext(ctx, "SELECT "+refundColumns+" FROM payment_refunds WHERE id = ?"+tx.ForUpdate(), id))
		if err != nil {
			return err
		}
		evs, err := fn(&r, &p)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payment_refunds SET status = ?, refund_id = ?, next_query_at = ?,
			completed_at = ? WHERE id = ?`, r.Status, r.RefundID, sqldb.NullTime(r.NextQueryAt), sqldb.NullTime(r.CompletedAt), id); err != nil {
			return fmt.Errorf("update refund: %w", err)
		}
		if err := updatePayment(ctx, tx, p); err != nil {
			return err
		}
		if err := s.outbox.Write(ctx, tx, evs...); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// ClaimDueRefunds claims pending refunds whose query is due and moves it to next.
func (s *Store) ClaimDueRefunds(ctx context.Context, now, next time.Time, limit int, by payment.Claimant) ([]payment.Refund, error) {
	var out []payment.Refund
	due, args := dueClause(now, by)
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		list, err := s.refunds(ctx, tx, "status = ? AND "+due+" ORDER BY next_query_at, id LIMIT ?"+s.db.SkipLocked(),
			append(append([]any{payment.RefundRequested}, args...), limit)...)
		if err != nil {
			return err
		}
		at := sqldb.Time(next)
		for i := range list {
			list[i].NextQueryAt = &at
			if _, err := tx.ExecContext(ctx, "UPDATE payment_refunds SET next_query_at = ?, query_claimed_by = ? WHERE id = ?",
				at, claimer(by), list[i].ID); err != nil {
				return fmt.Errorf("claim refund: %w", err)
			}
		}
		out = list
		return nil
	})
	return out, err
}

// ---- notify log ----

// notifyChunk bounds the rows of one INSERT (11 parameters each).
const notifyChunk = 200

// LogNotifications inserts notify log rows, a chunk per statement.
func (s *Store) LogNotifications(ctx context.Context, list []payment.Notification) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		for start := 0; start < len(list); start += notifyChunk {
			chunk := list[start:min(start+notifyChunk, len(list))]
			var q strings.Builder
			q.WriteString(`INSERT INTO payment_notifications (id, provider, kind, out_trade_no, out_refund_no, verified,
				outcome, reason, headers, body, received_at) VALUES `)
			args := make([]any, 0, len(chunk)*11)
			for i, n := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, n.ID, n.Provider, n.Kind, clip.Bytes(n.OutTradeNo, 64), clip.Bytes(n.OutRefundNo, 64), n.Verified,
					n.Outcome, n.Reason, n.Headers, n.Body, sqldb.Time(n.ReceivedAt))
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("insert payment notifications: %w", err)
			}
		}
		return nil
	})
}

// Notifications lists logged notifies matching f, newest first.
func (s *Store) Notifications(ctx context.Context, f payment.NotificationFilter, limit int) ([]payment.Notification, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.OutTradeNo != "" {
		where, args = append(where, "out_trade_no = ?"), append(args, f.OutTradeNo)
	}
	if f.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, f.Outcome)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, provider, kind, out_trade_no, out_refund_no, verified, outcome,
		reason, headers, body, received_at FROM payment_notifications WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("select payment notifications: %w", err)
	}
	defer rows.Close()
	out := []payment.Notification{}
	for rows.Next() {
		var n payment.Notification
		if err := rows.Scan(&n.ID, &n.Provider, &n.Kind, &n.OutTradeNo, &n.OutRefundNo, &n.Verified, &n.Outcome,
			&n.Reason, &n.Headers, &n.Body, &n.ReceivedAt); err != nil {
			return nil, err
		}
		n.ReceivedAt = n.ReceivedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// SucceededBetween lists a provider's payments paid and refunds completed in [from, to).
func (s *Store) SucceededBetween(ctx context.Context, provider string, from, to time.Time) ([]payment.Payment, []payment.Refund, error) {
	pays, err := s.payments(ctx, s.db.Read(), "provider = ? AND status = ? AND paid_at >= ? AND paid_at < ? ORDER BY id",
		provider, payment.Succeeded, sqldb.Time(from), sqldb.Time(to))
	if err != nil {
		return nil, nil, err
	}
	refunds, err := s.refunds(ctx, s.db.Read(), `status = ? AND completed_at >= ? AND completed_at < ?
		AND payment_id IN (SELECT id FROM payments WHERE provider = ?) ORDER BY id`,
		payment.RefundDone, sqldb.Time(from), sqldb.Time(to), provider)
	if err != nil {
		return nil, nil, err
	}
	return pays, refunds, nil
}
