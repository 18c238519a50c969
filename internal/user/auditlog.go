package user

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// The audit log: every staff write in every module reaches this module as an audit.recorded
// event (see package audit) and is kept in the user module's audit_log table, because staff
// accounts live here and the log must be in one place whichever service served the change.

// AuditEventTypes are the events HandleAuditEvent consumes.
var AuditEventTypes = []string{audit.TypeRecorded}

// HandleAuditEvent keeps the entry an audit.recorded event carries, with the actor's
// username added. A redelivered event is stored once. An event that cannot be read fails, so
// the bus retries and finally dead-letters it: an audit entry is never dropped silently.
func (s *Service) HandleAuditEvent(ctx context.Context, e events.Event) error {
	if e.Type != audit.TypeRecorded {
		return nil
	}
	entry, err := audit.Decode(e)
	if err != nil {
		return err
	}
	if entry.ActorUsername == "" {
		st, err := s.store.StaffByID(ctx, entry.ActorID)
		switch {
		case err == nil:
			entry.ActorUsername = st.Username
		case !errors.Is(err, ErrStaffNotFound):
			return err
		}
	}
	return s.store.RecordAudit(ctx, entry)
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	ActorID     ids.ID
	Method      string
	RoutePrefix string
	TargetID    string
	From, To    time.Time // From inclusive, To exclusive
	Before      ids.ID    // the cursor: entries with lower ids
}

// AuditQuery is the audit-log query as a client sends it.
type AuditQuery struct {
	Actor, Method, Route, Target, From, To, Cursor string
	Limit                                          int
}

var auditMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// AuditLog lists audit entries newest first, one page at a time.
func (s *Service) AuditLog(ctx context.Context, q AuditQuery) (ListPage[audit.Entry], error) {
	var f errs.Fields
	var filter AuditFilter
	if q.Actor != "" {
		id, err := ids.Parse(q.Actor)
		if err != nil {
			f.Add("actor", "must be a staff account id")
		}
		filter.ActorID = id
	}
	if q.Method != "" && !slices.Contains(auditMethods, q.Method) {
		f.Add("method", "must be POST, PUT, PATCH or DELETE")
	}
	filter.Method = q.Method
	if len(q.Route) > 255 {
		f.Add("route", "must be at most 255 bytes")
	}
	filter.RoutePrefix = q.Route
	if len(q.Target) > 64 {
		f.Add("target", "must be at most 64 bytes")
	}
	filter.TargetID = q.Target
	parseTime := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			f.Add(field, "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
		}
		return t.UTC()
	}
	filter.From, filter.To = parseTime("from", q.From), parseTime("to", q.To)
	if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		f.Add("to", "must be after from")
	}
	filter.Before = parseCursor(&f, q.Cursor)
	if err := f.Err(); err != nil {
		return ListPage[audit.Entry]{}, err
	}
	page := newPage[audit.Entry](q.Limit)
	list, err := s.store.AuditLog(ctx, filter, page.Limit+1)
	if err != nil {
		return ListPage[audit.Entry]{}, err
	}
	return page.fill(list, func(e audit.Entry) ids.ID { return e.ID }), nil
}
