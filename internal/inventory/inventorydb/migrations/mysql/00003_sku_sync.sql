-- +goose Up
-- Where each SKU stands in the external inventory_update stream: the newest version and
-- updated_at applied so far (NULL: none seen), and who sent the last applied update. An
-- update not newer than these is stale and ignored.
CREATE TABLE sku_sync (
    sku_id      BIGINT NOT NULL PRIMARY KEY,
    version     BIGINT NULL,
    updated_at  DATETIME(6) NULL,
    source      VARCHAR(64) NOT NULL,
    applied_at  DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE sku_sync;
