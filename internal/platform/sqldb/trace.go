package sqldb

import (
	"context"
	"database/sql/driver"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Spans around SQL statements. No well-kept otelsql is available to this module, and the
// stores call database/sql directly (Read(), Write(), Tx), so the spans are made one level
// down: Open wraps the driver's connections, and every statement run through
// ExecContext/QueryContext — on a pool or in a transaction — is a client span with the
// statement's text (its placeholders, never its arguments, which may hold personal data).
// Only statements under a traced request or event get one: the background polls of the
// relay and the sweepers would otherwise each start a trace of their own every few hundred
// milliseconds. Without a tracer Open does not wrap at all.

// tracedConnector makes every connection of its pool a tracedConn.
type tracedConnector struct {
	driver.Connector
	tracer trace.Tracer
	system string // db.system.name: "sqlite" or "mysql"
}

func (c tracedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &tracedConn{Conn: conn, tracer: c.tracer, system: c.system}, nil
}

// tracedConn passes everything to the driver's connection, timing ExecContext and
// QueryContext in spans. Each optional interface answers as the driver would when the
// driver lacks it (driver.ErrSkip, or database/sql's default), so wrapping changes no
// behaviour.
type tracedConn struct {
	driver.Conn
	tracer trace.Tracer
	system string
}

var (
	_ driver.ConnBeginTx        = (*tracedConn)(nil)
	_ driver.ConnPrepareContext = (*tracedConn)(nil)
	_ driver.ExecerContext      = (*tracedConn)(nil)
	_ driver.QueryerContext     = (*tracedConn)(nil)
	_ driver.Pinger             = (*tracedConn)(nil)
	_ driver.SessionResetter    = (*tracedConn)(nil)
	_ driver.Validator          = (*tracedConn)(nil)
	_ driver.NamedValueChecker  = (*tracedConn)(nil)
)

// start begins a statement's span when ctx's span is recorded (sampled); end is nil
// otherwise: a statement's span has no children, so an unsampled request's would only be
// built to be dropped.
func (c *tracedConn) start(ctx context.Context, query string) (end func(error)) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return nil
	}
	op, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	op = strings.ToUpper(op)
	_, span := c.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", c.system),
			attribute.String("db.operation.name", op),
			attribute.String("db.query.text", query)))
	return func(err error) {
		if err != nil && err != driver.ErrSkip {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

func (c *tracedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ex, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	end := c.start(ctx, query)
	res, err := ex.ExecContext(ctx, query, args)
	if end != nil {
		end(err)
	}
	return res, err
}

func (c *tracedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	end := c.start(ctx, query)
	rows, err := q.QueryContext(ctx, query, args)
	if end != nil {
		end(err)
	}
	return rows, err
}

func (c *tracedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	//lint:ignore SA1019 the driver has nothing newer; database/sql would call the same
	return c.Conn.Begin()
}

func (c *tracedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *tracedConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *tracedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *tracedConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *tracedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
