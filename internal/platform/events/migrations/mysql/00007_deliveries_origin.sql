-- +goose Up
-- The event's origin, carried with each in-process delivery (see 00006).
ALTER TABLE event_deliveries
    ADD COLUMN trace_parent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'W3C traceparent of the span that published the event',
    ADD COLUMN request_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the request that caused the event';
