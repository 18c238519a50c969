-- +goose Up
-- The request and trace that caused each event (events.Origin), so its consumers log the
-- request's id and continue its trace.
ALTER TABLE outbox_events ADD COLUMN trace_parent TEXT NULL; -- W3C traceparent of the span that wrote the event
ALTER TABLE outbox_events ADD COLUMN request_id TEXT NULL;   -- the request that caused the event
