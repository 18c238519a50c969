-- +goose Up
CREATE TABLE categories (
    id          BIGINT NOT NULL PRIMARY KEY,
    parent_id   BIGINT NOT NULL DEFAULT 0,
    name        VARCHAR(30) NOT NULL,
    sort_order  INT NOT NULL DEFAULT 0,
    icon_url    VARCHAR(500) NOT NULL DEFAULT '',
    hidden      BOOLEAN NOT NULL DEFAULT FALSE,
    level       TINYINT NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    KEY categories_parent (parent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
    id           BIGINT NOT NULL PRIMARY KEY,
    category_id  BIGINT NOT NULL,
    title        VARCHAR(100) NOT NULL,
    subtitle     VARCHAR(200) NOT NULL DEFAULT '',
    description  MEDIUMTEXT NOT NULL,
    images       TEXT NOT NULL,
    specs        TEXT NOT NULL,
    status       VARCHAR(16) NOT NULL,
    sales        BIGINT NOT NULL DEFAULT 0,
    price_min    BIGINT NOT NULL DEFAULT 0,
    price_max    BIGINT NOT NULL DEFAULT 0,
    created_at   DATETIME(6) NOT NULL,
    updated_at   DATETIME(6) NOT NULL,
    deleted_at   DATETIME(6) NULL,
    KEY products_category (category_id),
    KEY products_newest (status, created_at, id),
    KEY products_price (status, price_min, id),
    KEY products_sales (status, sales, id),
    CONSTRAINT products_status CHECK (status IN ('on_shelf', 'off_shelf'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE skus (
    id          BIGINT NOT NULL PRIMARY KEY,
    product_id  BIGINT NOT NULL,
    spec_key    VARCHAR(700) COLLATE utf8mb4_bin NOT NULL,
    specs       TEXT NOT NULL,
    price       BIGINT NOT NULL,
    list_price  BIGINT NOT NULL DEFAULT 0,
    code        VARCHAR(64) COLLATE utf8mb4_bin NULL,
    image       VARCHAR(500) NOT NULL DEFAULT '',
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    deleted_at  DATETIME(6) NULL,
    UNIQUE KEY skus_specs (product_id, spec_key),
    UNIQUE KEY skus_code (code),
    CONSTRAINT skus_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT skus_price CHECK (price > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE skus;
DROP TABLE products;
DROP TABLE categories;
