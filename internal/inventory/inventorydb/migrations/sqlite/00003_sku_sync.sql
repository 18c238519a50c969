-- +goose Up
-- Where each SKU stands in the external inventory_update stream: the newest version and
-- updated_at applied so far (NULL: none seen), and who sent the last applied update. An
-- update not newer than these is stale and ignored.
CREATE TABLE sku_sync (
    sku_id      INTEGER PRIMARY KEY,
    version     INTEGER,
    updated_at  DATETIME,
    source      TEXT NOT NULL,
    applied_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE sku_sync;
