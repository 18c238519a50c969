// Command backup measures `minimart backup` and `minimart restore` (the same code,
// internal/platform/backup) on a shop of 10,000 products and 100,000 orders, on SQLite and on
// MariaDB, and prints a Markdown table:
//
//	go run ./bench/backup -mysql mysql://root@127.0.0.1:3306/test
//
// The catalog is loaded through the catalog and inventory modules (the demo loader: products,
// SKUs, stock, ledger, outbox events). The orders are written by SQL in the shape the order
// path writes them — an order with two lines and its creation history row, every second one paid
// with its payment and a paid history row — because placing 100,000 orders through the API
// would measure the order path, not the backup. Restore is timed without the search rebuild
// that `minimart restore` runs after it (that is `minimart reindex`'s time).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/catalog/demo"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/backup"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

func main() {
	mysqlURL := flag.String("mysql", "", "a MariaDB/MySQL server URL whose user may create databases; empty: SQLite only")
	products := flag.Int("products", 10_000, "products in the catalog")
	orders := flag.Int("orders", 100_000, "orders")
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("| engine | products | orders | rows | backup | file | restore |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	engines := []string{"sqlite"}
	if *mysqlURL != "" {
		engines = append(engines, "mariadb")
	}
	for _, engine := range engines {
		r, err := measure(ctx, engine, *mysqlURL, *products, *orders)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench backup %s: %v\n", engine, err)
			os.Exit(1)
		}
		fmt.Printf("| %s | %d | %d | %d | %s | %.1f MiB | %s |\n", engine, *products, *orders, r.rows,
			r.backup.Round(time.Millisecond), float64(r.size)/(1<<20), r.restore.Round(time.Millisecond))
	}
}

type result struct {
	rows            int64
	size            int64
	backup, restore time.Duration
}

func measure(ctx context.Context, engine, serverURL string, products, orders int) (result, error) {
	dir, err := os.MkdirTemp("", "minimart-bench-backup-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	srcURL, dstURL := "", ""
	if engine == "mariadb" {
		var drop func()
		if srcURL, dstURL, drop, err = databases(ctx, serverURL); err != nil {
			return result{}, err
		}
		defer drop()
	}
	srcDir, dstDir := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"MINIMART_DB_URL": srcURL, "MINIMART_JWT_SECRET": "bench-backup-secret-0123456789abcdef"}[k]
	}, config.Overrides{DataDir: srcDir})
	if err != nil {
		return result{}, err
	}
	log := slog.New(slog.DiscardHandler)
	base, err := app.OpenBase(ctx, cfg, log)
	if err != nil {
		return result{}, err
	}
	defer base.Close()
	fmt.Fprintf(os.Stderr, "%s: loading %d products…\n", engine, products)
	catalog := base.Catalog(base.CatalogStore())
	if _, err := demo.Load(ctx, catalog, demoStock{base.Inventory(catalog)}, products, nil); err != nil {
		return result{}, err
	}
	fmt.Fprintf(os.Stderr, "%s: writing %d orders…\n", engine, orders)
	if err := seedOrders(ctx, base.DB, base.IDs, orders); err != nil {
		return result{}, err
	}

	file := filepath.Join(dir, "shop.tar.gz")
	f, err := os.Create(file)
	if err != nil {
		return result{}, err
	}
	started := time.Now()
	sum, err := backup.Backup(ctx, base.DB, f, backup.Options{Sets: app.Migrations()})
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return result{}, err
	}
	r := result{backup: time.Since(started)}
	if st, err := os.Stat(file); err == nil {
		r.size = st.Size()
	}
	for _, n := range sum.Rows {
		r.rows += n
	}
	fmt.Fprintf(os.Stderr, "%s: backup %s, restoring…\n", engine, r.backup)
	started = time.Now()
	if _, err := backup.Restore(ctx, file, backup.RestoreOptions{DBURL: dstURL, DataDir: dstDir, Sets: app.Migrations(),
		MediaDir: filepath.Join(dstDir, "media")}); err != nil {
		return result{}, err
	}
	r.restore = time.Since(started)
	return r, nil
}

// databases creates two empty databases on the server and returns their URLs.
func databases(ctx context.Context, serverURL string) (src, dst string, drop func(), err error) {
	admin, err := sqldb.Open(ctx, serverURL, "")
	if err != nil {
		return "", "", nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	names := []string{"mmbench_src_" + hex.EncodeToString(b), "mmbench_dst_" + hex.EncodeToString(b)}
	u, err := url.Parse(serverURL)
	if err != nil {
		admin.Close()
		return "", "", nil, err
	}
	var out []string
	for _, n := range names {
		if _, err := admin.Write().ExecContext(ctx, "CREATE DATABASE "+n+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			admin.Close()
			return "", "", nil, err
		}
		u.Path = "/" + n
		out = append(out, u.String())
	}
	return out[0], out[1], func() {
		for _, n := range names {
			admin.Write().ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+n)
		}
		admin.Close()
	}, nil
}

// seedOrders writes n orders over the catalog's SKUs in multi-row INSERTs.
func seedOrders(ctx context.Context, db *sqldb.DB, gen *ids.Generator, n int) error {
	rows, err := db.Read().QueryContext(ctx, "SELECT sku_id, product_id FROM stock ORDER BY sku_id")
	if err != nil {
		return err
	}
	type sku struct{ id, product int64 }
	var skus []sku
	for rows.Next() {
		var s sku
		if err := rows.Scan(&s.id, &s.product); err != nil {
			rows.Close()
			return err
		}
		skus = append(skus, s)
	}
	rows.Close()
	if len(skus) == 0 {
		return fmt.Errorf("no SKUs")
	}
	now := sqldb.Time(time.Now())
	const batch = 500
	historyID := int64(1)
	for start := 0; start < n; start += batch {
		var orders, lines, history, payments []string
		var oArgs, lArgs, hArgs, pArgs []any
		for i := start; i < min(start+batch, n); i++ {
			id := int64(gen.New())
			no := fmt.Sprintf("2026120700%010d", i)
			status, paidAt, paymentID := "pending_payment", any(nil), any(nil)
			a, b := skus[i%len(skus)], skus[(i*7+3)%len(skus)]
			total := int64(19900 + 100*(i%50))
			if i%2 == 0 {
				status, paidAt, paymentID = "paid", now, int64(gen.New())
				payments = append(payments, "(?, ?, ?, ?, 'sandbox', 'sandbox', ?, 0, 'succeeded', ?, '{}', ?, ?, 0, ?, ?)")
				pArgs = append(pArgs, paymentID, id, no, 1000+i%5000, total, "T"+no, now, now, now, now)
			}
			orders = append(orders, "(?, ?, ?, ?, ?, 0, ?, '', ?, ?, ?, '', '', '', ?, ?, ?)")
			oArgs = append(oArgs, id, no, 1000+i%5000, status, total, total,
				`{"recipient":"张三","phone":"138****0000","province":"广东省","city":"深圳市","district":"南山区","detail":"科技园路 1 号"}`,
				now, paidAt, now, now, paymentID)
			for l, s := range []sku{a, b} {
				lines = append(lines, "(?, ?, ?, ?, ?, ?, '', ?, 1, ?)")
				lArgs = append(lArgs, id, l+1, s.id, s.product, "演示商品 标题 "+fmt.Sprint(s.product), `{"颜色":"黑色","尺码":"M"}`, total/2, total/2)
			}
			history = append(history, "(?, ?, '', 'pending_payment', 'buyer', 'order placed', ?)")
			hArgs = append(hArgs, historyID, id, now)
			historyID++
			if paidAt != nil {
				history = append(history, "(?, ?, 'pending_payment', 'paid', 'payment', 'payment succeeded', ?)")
				hArgs = append(hArgs, historyID, id, now)
				historyID++
			}
		}
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			for _, st := range []struct {
				query string
				rows  []string
				args  []any
			}{
				{"INSERT INTO orders (id, order_no, user_id, status, items_total, shipping_fee, payable, remark, address, pay_deadline, paid_at," +
					" carrier, tracking_no, staff_note, created_at, updated_at, payment_id) VALUES ", orders, oArgs},
				{"INSERT INTO order_lines (order_id, line_no, sku_id, product_id, title, specs, image, unit_price, quantity, line_total) VALUES ", lines, lArgs},
				{"INSERT INTO order_history (id, order_id, from_status, to_status, actor, reason, created_at) VALUES ", history, hArgs},
				{"INSERT INTO payments (id, order_id, order_no, user_id, provider, method, amount, refunded, status, transaction_id," +
					" instructions, expires_at, paid_at, query_attempts, created_at, updated_at) VALUES ", payments, pArgs},
			} {
				if len(st.rows) == 0 {
					continue
				}
				if _, err := tx.ExecContext(ctx, st.query+strings.Join(st.rows, ", "), st.args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type demoStock struct{ inv *inventory.Service }

func (d demoStock) SetStock(ctx context.Context, actor string, skuID ids.ID, stock int64, reason string) error {
	_, err := d.inv.SetStock(ctx, actor, skuID, stock, reason)
	return err
}
