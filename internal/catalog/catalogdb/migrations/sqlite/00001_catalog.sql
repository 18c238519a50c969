-- +goose Up
CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER NOT NULL DEFAULT 0,
    name        TEXT NOT NULL,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    icon_url    TEXT NOT NULL DEFAULT '',
    hidden      INTEGER NOT NULL DEFAULT 0,
    level       INTEGER NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE products (
    id           INTEGER PRIMARY KEY,
    category_id  INTEGER NOT NULL,
    title        TEXT NOT NULL,
    subtitle     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    images       TEXT NOT NULL DEFAULT '[]',
    specs        TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL CHECK (status IN ('on_shelf', 'off_shelf')),
    sales        INTEGER NOT NULL DEFAULT 0,
    price_min    INTEGER NOT NULL DEFAULT 0,
    price_max    INTEGER NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    deleted_at   DATETIME
);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_newest ON products (status, created_at, id);
CREATE INDEX products_price ON products (status, price_min, id);
CREATE INDEX products_sales ON products (status, sales, id);

CREATE TABLE skus (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id),
    spec_key    TEXT NOT NULL,
    specs       TEXT NOT NULL DEFAULT '{}',
    price       INTEGER NOT NULL CHECK (price > 0),
    list_price  INTEGER NOT NULL DEFAULT 0,
    code        TEXT UNIQUE,
    image       TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    deleted_at  DATETIME,
    UNIQUE (product_id, spec_key)
);

-- +goose Down
DROP TABLE skus;
DROP TABLE products;
DROP TABLE categories;
