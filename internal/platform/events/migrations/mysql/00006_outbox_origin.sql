-- +goose Up
-- The request and trace that caused each event (events.Origin), so its consumers log the
-- request's id and continue its trace. One ALTER per migration: MySQL's DDL commits at once.
ALTER TABLE outbox_events
    ADD COLUMN trace_parent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'W3C traceparent of the span that wrote the event',
    ADD COLUMN request_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the request that caused the event';
