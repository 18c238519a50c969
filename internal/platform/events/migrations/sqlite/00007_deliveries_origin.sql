-- +goose Up
-- The event's origin, carried with each in-process delivery (see 00006).
ALTER TABLE event_deliveries ADD COLUMN trace_parent TEXT NULL;
ALTER TABLE event_deliveries ADD COLUMN request_id TEXT NULL;
