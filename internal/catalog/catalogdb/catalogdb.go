// Package catalogdb stores categories, products and SKUs in SQLite or MySQL with explicit
// SQL. Deleted products and SKUs are kept (marked deleted) so carts and order histories
// can still name them.
package catalogdb

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the catalog module's schema.
var Migrations = sqldb.Migrations{Module: "catalog", FS: migrationFiles, Dir: "migrations"}

// Store implements catalog.Storer.
type Store struct {
	db     *sqldb.DB
	outbox *events.Outbox
}

var _ catalog.Storer = (*Store)(nil)

// New returns a store over db writing events to outbox.
func New(db *sqldb.DB, outbox *events.Outbox) *Store { return &Store{db: db, outbox: outbox} }

type scanner interface{ Scan(...any) error }

const categoryColumns = "id, parent_id, name, sort_order, icon_url, hidden, level, created_at, updated_at"

func scanCategory(row scanner) (catalog.Category, error) {
	var c catalog.Category
	err := row.Scan(&c.ID, &c.ParentID, &c.Name, &c.SortOrder, &c.IconURL, &c.Hidden, &c.Level, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// Categories returns every category.
func (s *Store) Categories(ctx context.Context) ([]catalog.Category, error) {
	return categories(ctx, s.db.Read(), "list categories", "")
}

// lockCategories reads every category inside tx and keeps other category writes out until
// tx ends, so the tree a write checks (no cycle, at most three levels, the parent exists)
// is the tree it commits into: two staff moving A under B and B under A at once would
// each pass a check made before the other's commit. SQLite's write transaction already
// excludes every other writer; MySQL locks the rows, in id order so writers queue rather
// than deadlock. Categories are few and change rarely.
func lockCategories(ctx context.Context, tx *sqldb.Tx) ([]catalog.Category, error) {
	return categories(ctx, tx, "lock categories", tx.ForUpdate())
}

func categories(ctx context.Context, q sqldb.Querier, what, suffix string) ([]catalog.Category, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+categoryColumns+" FROM categories ORDER BY id"+suffix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []catalog.Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateCategory inserts c as check leaves it.
func (s *Store) CreateCategory(ctx context.Context, c catalog.Category, check catalog.CategoryCheck, ev events.Event) (catalog.Category, error) {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		all, err := lockCategories(ctx, tx)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(&c, all); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO categories ("+categoryColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			c.ID, c.ParentID, c.Name, c.SortOrder, c.IconURL, c.Hidden, c.Level, c.CreatedAt, c.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert category: %w", err)
		}
		return s.outbox.Write(ctx, tx, ev)
	})
	return c, err
}

// UpdateCategory changes a category; children's levels follow a move.
func (s *Store) UpdateCategory(ctx context.Context, id ids.ID, fn catalog.CategoryCheck, ev events.Event) (catalog.Category, error) {
	var out catalog.Category
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		all, err := lockCategories(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(c catalog.Category) bool { return c.ID == id })
		if i < 0 {
			return catalog.ErrCategoryNotFound
		}
		c := all[i]
		oldLevel := c.Level
		if err := fn(&c, all); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE categories SET parent_id = ?, name = ?, sort_order = ?, icon_url = ?,
			hidden = ?, level = ?, updated_at = ? WHERE id = ?`,
			c.ParentID, c.Name, c.SortOrder, c.IconURL, c.Hidden, c.Level, c.UpdatedAt, id); err != nil {
			return fmt.Errorf("update category: %w", err)
		}
		if shift := c.Level - oldLevel; shift != 0 {
			// Two levels below at most, so two statements cover the whole subtree.
			if _, err := tx.ExecContext(ctx, "UPDATE categories SET level = level + ? WHERE parent_id = ?", shift, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE categories SET level = level + ? WHERE parent_id IN
				(SELECT id FROM (SELECT id FROM categories WHERE parent_id = ?) AS children)`, shift, id); err != nil {
				return err
			}
		}
		out = c
		return s.outbox.Write(ctx, tx, ev)
	})
	return out, err
}

// DeleteCategory removes a category that has no children and no live products.
func (s *Store) DeleteCategory(ctx context.Context, id ids.ID, ev events.Event) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		// Locked like every category write: a subcategory created under this one while it
		// is deleted would otherwise be left without a parent.
		all, err := lockCategories(ctx, tx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(all, func(c catalog.Category) bool { return c.ID == id }) {
			return catalog.ErrCategoryNotFound
		}
		var n int
		err = tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM categories WHERE parent_id = ?) +
			(SELECT COUNT(*) FROM products WHERE category_id = ? AND deleted_at IS NULL)`, id, id).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return catalog.ErrCategoryNotEmpty
		}
		if _, err = tx.ExecContext(ctx, "DELETE FROM categories WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete category: %w", err)
		}
		return s.outbox.Write(ctx, tx, ev)
	})
}

const productColumns = "id, category_id, title, subtitle, description, images, specs, status, sales, price_min, price_max, created_at, updated_at"

func scanProduct(row scanner) (catalog.Product, error) {
	var p catalog.Product
	var images, specs string
	err := row.Scan(&p.ID, &p.CategoryID, &p.Title, &p.Subtitle, &p.Description, &images, &specs, &p.Status,
		&p.Sales, &p.PriceMin, &p.PriceMax, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(images), &p.Images); err != nil {
		return p, fmt.Errorf("product %d images: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(specs), &p.Specs); err != nil {
		return p, fmt.Errorf("product %d specs: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

const skuColumns = "id, product_id, specs, price, list_price, code, image"

func scanSKU(row scanner, extra ...any) (catalog.SKU, error) {
	var k catalog.SKU
	var specs string
	var code sql.NullString
	dest := append([]any{&k.ID, &k.ProductID, &specs, &k.Price, &k.ListPrice, &code, &k.Image}, extra...)
	if err := row.Scan(dest...); err != nil {
		return k, err
	}
	k.Code = code.String
	if err := json.Unmarshal([]byte(specs), &k.Specs); err != nil {
		return k, fmt.Errorf("sku %d specs: %w", k.ID, err)
	}
	return k, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain strings, slices and maps reach here
	}
	return string(b)
}

// CreateProduct inserts p, its SKUs and ev in one transaction.
func (s *Store) CreateProduct(ctx context.Context, p catalog.Product, ev events.Event) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO products ("+productColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			p.ID, p.CategoryID, p.Title, p.Subtitle, p.Description, mustJSON(p.Images), mustJSON(p.Specs), p.Status,
			p.Sales, p.PriceMin, p.PriceMax, p.CreatedAt, p.UpdatedAt); err != nil {
			return fmt.Errorf("insert product: %w", err)
		}
		for _, k := range p.SKUs {
			if err := insertSKU(ctx, tx, k, p.UpdatedAt); err != nil {
				return err
			}
		}
		return s.outbox.Write(ctx, tx, ev)
	})
}

func insertSKU(ctx context.Context, tx *sqldb.Tx, k catalog.SKU, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO skus (id, product_id, spec_key, specs, price, list_price, code, image, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.ProductID, catalog.SpecKey(k.Specs), mustJSON(k.Specs), k.Price, k.ListPrice, sqldb.NullString(k.Code), k.Image, now, now)
	return skuWriteError(err)
}

func skuWriteError(err error) error {
	switch {
	case err == nil:
		return nil
	case slices.Contains([]string{"skus_code", "skus.skus_code", "skus.code"}, sqldb.ViolatedUnique(err)):
		return catalog.ErrSKUCodeTaken
	case sqldb.IsUniqueViolation(err):
		return catalog.ErrDuplicateSpecs
	default:
		return fmt.Errorf("write sku: %w", err)
	}
}

func productSKUs(ctx context.Context, q sqldb.Querier, productIDs ...ids.ID) (map[ids.ID][]catalog.SKU, error) {
	out := map[ids.ID][]catalog.SKU{}
	if len(productIDs) == 0 {
		return out, nil
	}
	in, args := sqldb.InList(productIDs)
	rows, err := q.QueryContext(ctx, "SELECT "+skuColumns+" FROM skus WHERE product_id IN ("+in+") AND deleted_at IS NULL ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list skus: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		k, err := scanSKU(rows)
		if err != nil {
			return nil, err
		}
		out[k.ProductID] = append(out[k.ProductID], k)
	}
	return out, rows.Err()
}

func productByID(ctx context.Context, q sqldb.Querier, id ids.ID, suffix string) (catalog.Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, "SELECT "+productColumns+" FROM products WHERE id = ? AND deleted_at IS NULL"+suffix, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	if err != nil {
		return p, fmt.Errorf("select product: %w", err)
	}
	skus, err := productSKUs(ctx, q, id)
	p.SKUs = skus[id]
	return p, err
}

// Product returns a live product with its SKUs.
func (s *Store) Product(ctx context.Context, id ids.ID) (catalog.Product, error) {
	return productByID(ctx, s.db.Read(), id, "")
}

// UpdateProduct applies fn to the product and its SKUs in one transaction.
func (s *Store) UpdateProduct(ctx context.Context, id ids.ID, fn func(*catalog.Product) (events.Event, error)) (catalog.Product, error) {
	var out catalog.Product
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		p, err := productByID(ctx, tx, id, tx.ForUpdate())
		if err != nil {
			return err
		}
		before := map[ids.ID]catalog.SKU{}
		for _, k := range p.SKUs {
			before[k.ID] = k
		}
		p.SKUs = append([]catalog.SKU(nil), p.SKUs...)
		ev, err := fn(&p)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE products SET category_id = ?, title = ?, subtitle = ?, description = ?,
			images = ?, specs = ?, status = ?, price_min = ?, price_max = ?, updated_at = ? WHERE id = ?`,
			p.CategoryID, p.Title, p.Subtitle, p.Description, mustJSON(p.Images), mustJSON(p.Specs), p.Status,
			p.PriceMin, p.PriceMax, p.UpdatedAt, id); err != nil {
			return fmt.Errorf("update product: %w", err)
		}
		after := map[ids.ID]bool{}
		for _, k := range p.SKUs {
			after[k.ID] = true
		}
		// Deletes first, so a SKU may take over the spec values of one removed in the same change.
		for skuID := range before {
			if !after[skuID] {
				if err := deleteSKU(ctx, tx, skuID, p.UpdatedAt); err != nil {
					return err
				}
			}
		}
		for _, k := range p.SKUs {
			if old, ok := before[k.ID]; !ok {
				err = insertSKU(ctx, tx, k, p.UpdatedAt)
			} else if !sameSKU(old, k) {
				_, err = tx.ExecContext(ctx, `UPDATE skus SET spec_key = ?, specs = ?, price = ?, list_price = ?, code = ?,
					image = ?, updated_at = ? WHERE id = ?`,
					catalog.SpecKey(k.Specs), mustJSON(k.Specs), k.Price, k.ListPrice, sqldb.NullString(k.Code), k.Image, p.UpdatedAt, k.ID)
				err = skuWriteError(err)
			}
			if err != nil {
				return err
			}
		}
		out = p
		return s.outbox.Write(ctx, tx, ev)
	})
	return out, err
}

func sameSKU(a, b catalog.SKU) bool {
	return catalog.SpecKey(a.Specs) == catalog.SpecKey(b.Specs) && a.Price == b.Price && a.ListPrice == b.ListPrice &&
		a.Code == b.Code && a.Image == b.Image
}

// deleteSKU marks a SKU deleted and frees its spec values and code for new SKUs.
func deleteSKU(ctx context.Context, tx *sqldb.Tx, id ids.ID, now time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE skus SET deleted_at = ?, spec_key = ?, code = NULL WHERE id = ?",
		now, fmt.Sprintf("deleted:%d", id), id)
	if err != nil {
		return fmt.Errorf("delete sku: %w", err)
	}
	return nil
}

// DeleteProduct marks the product and its SKUs deleted.
func (s *Store) DeleteProduct(ctx context.Context, id ids.ID, ev events.Event) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		now := ev.OccurredAt
		res, err := tx.ExecContext(ctx, "UPDATE products SET deleted_at = ?, status = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
			now, catalog.OffShelf, now, id)
		if err != nil {
			return fmt.Errorf("delete product: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return catalog.ErrProductNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE skus SET deleted_at = ?, spec_key = CONCAT('deleted:', id), code = NULL
			WHERE product_id = ? AND deleted_at IS NULL`, now, id); err != nil {
			return fmt.Errorf("delete skus: %w", err)
		}
		return s.outbox.Write(ctx, tx, ev)
	})
}

func orderBy(sort string) string {
	switch sort {
	case catalog.SortPriceAsc:
		return "price_min ASC, id ASC"
	case catalog.SortPriceDesc:
		return "price_min DESC, id DESC"
	case catalog.SortSales:
		return "sales DESC, id DESC"
	default:
		return "created_at DESC, id DESC"
	}
}

// Products lists products matching f and counts them.
func (s *Store) Products(ctx context.Context, f catalog.ListFilter) ([]catalog.Product, int, error) {
	where := " WHERE deleted_at IS NULL"
	var args []any
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, f.Status)
	}
	if len(f.CategoryIDs) > 0 {
		in, a := sqldb.InList(f.CategoryIDs)
		where += " AND category_id IN (" + in + ")"
		args = append(args, a...)
	}
	if f.MinPrice > 0 {
		where += " AND price_min >= ?"
		args = append(args, f.MinPrice)
	}
	if f.MaxPrice > 0 {
		where += " AND price_min <= ?"
		args = append(args, f.MaxPrice)
	}
	if f.TitleLike != "" {
		where += " AND title LIKE ? ESCAPE '!'"
		args = append(args, "%"+strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(f.TitleLike)+"%")
	}
	var total int
	if err := s.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM products"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+productColumns+" FROM products"+where+
		" ORDER BY "+orderBy(f.Sort)+" LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	out := []catalog.Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil || !f.WithSKUs {
		return out, total, err
	}
	idList := make([]ids.ID, len(out))
	for i, p := range out {
		idList[i] = p.ID
	}
	skus, err := productSKUs(ctx, s.db.Read(), idList...)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].SKUs = skus[out[i].ID]
	}
	return out, total, nil
}

// ProductsByIDs returns the live products among productIDs, without their SKUs.
func (s *Store) ProductsByIDs(ctx context.Context, productIDs []ids.ID) ([]catalog.Product, error) {
	if len(productIDs) == 0 {
		return nil, nil
	}
	in, args := sqldb.InList(productIDs)
	return s.productsWhere(ctx, false, "id IN ("+in+") AND deleted_at IS NULL", args...)
}

func (s *Store) productsWhere(ctx context.Context, withSKUs bool, where string, args ...any) ([]catalog.Product, error) {
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+productColumns+" FROM products WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("select products: %w", err)
	}
	defer rows.Close()
	var out []catalog.Product
	var idList []ids.ID
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		idList = append(idList, p.ID)
	}
	if err := rows.Err(); err != nil || !withSKUs {
		return out, err
	}
	skus, err := productSKUs(ctx, s.db.Read(), idList...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].SKUs = skus[out[i].ID]
	}
	return out, nil
}

// OnShelfAfter pages through on-shelf products by id.
func (s *Store) OnShelfAfter(ctx context.Context, after ids.ID, limit int) ([]catalog.Product, error) {
	return s.productsWhere(ctx, true, "id > ? AND status = ? AND deleted_at IS NULL ORDER BY id LIMIT ?", after, catalog.OnShelf, limit)
}

// SKURefs returns SKUs by id with their product's title, first image and status.
func (s *Store) SKURefs(ctx context.Context, skuIDs []ids.ID) ([]catalog.SKURef, error) {
	if len(skuIDs) == 0 {
		return nil, nil
	}
	in, args := sqldb.InList(skuIDs)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT k.id, k.product_id, k.specs, k.price, k.list_price, k.code, k.image,
		p.title, p.images, p.status, k.deleted_at IS NOT NULL OR p.deleted_at IS NOT NULL
		FROM skus k JOIN products p ON p.id = k.product_id WHERE k.id IN (`+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("select skus: %w", err)
	}
	defer rows.Close()
	var out []catalog.SKURef
	for rows.Next() {
		var r catalog.SKURef
		var images string
		r.SKU, err = scanSKU(rows, &r.ProductTitle, &images, &r.ProductStatus, &r.Deleted)
		if err != nil {
			return nil, err
		}
		var imgs []string
		if err := json.Unmarshal([]byte(images), &imgs); err == nil && len(imgs) > 0 {
			r.ProductImage = imgs[0]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SKUByCode returns the id of the live SKU of a live product with exactly this code
// (binary collation on MySQL, as on SQLite).
func (s *Store) SKUByCode(ctx context.Context, code string) (ids.ID, error) {
	var id ids.ID
	err := s.db.Read().QueryRowContext(ctx, `SELECT k.id FROM skus k JOIN products p ON p.id = k.product_id
		WHERE k.code = ? AND k.deleted_at IS NULL AND p.deleted_at IS NULL`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, catalog.ErrSKUNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("select sku by code: %w", err)
	}
	return id, nil
}

// LiveSKUsOfProduct returns a live product's live SKU ids in ascending order. One query:
// no row means no live product; a row without a SKU id, a product without live SKUs.
func (s *Store) LiveSKUsOfProduct(ctx context.Context, productID ids.ID) ([]ids.ID, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT k.id FROM products p
		LEFT JOIN skus k ON k.product_id = p.id AND k.deleted_at IS NULL
		WHERE p.id = ? AND p.deleted_at IS NULL ORDER BY k.id`, productID)
	if err != nil {
		return nil, fmt.Errorf("select live skus: %w", err)
	}
	defer rows.Close()
	found := false
	out := []ids.ID{}
	for rows.Next() {
		found = true
		var id sql.NullInt64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if id.Valid {
			out = append(out, ids.ID(id.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, catalog.ErrProductNotFound
	}
	return out, nil
}

// IndexSource reads the catalog database's identity (made by its migration) and its index
// version; the database is named by where it is, without a password (a SQLite file by its
// absolute path, so processes started from other directories name it alike).
func (s *Store) IndexSource(ctx context.Context) (catalog.IndexSource, error) {
	src := catalog.IndexSource{Database: s.db.Target}
	if file, ok := strings.CutPrefix(s.db.Target, "sqlite:"); ok && s.db.Dialect == sqldb.SQLite {
		if abs, err := filepath.Abs(file); err == nil {
			src.Database = "sqlite:" + abs
		}
	}
	err := s.db.Read().QueryRowContext(ctx, "SELECT database_id, index_version FROM catalog_identity WHERE singleton = 1").
		Scan(&src.DatabaseID, &src.Version)
	if err != nil {
		return catalog.IndexSource{}, fmt.Errorf("read catalog identity: %w", err)
	}
	return src, nil
}

// RaiseIndexVersion adds one to the index version.
func (s *Store) RaiseIndexVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE catalog_identity SET index_version = index_version + 1 WHERE singleton = 1"); err != nil {
			return fmt.Errorf("raise index version: %w", err)
		}
		return tx.QueryRowContext(ctx, "SELECT index_version FROM catalog_identity WHERE singleton = 1").Scan(&v)
	})
	return v, err
}
