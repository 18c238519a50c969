package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/backup"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// countedTables are the rows the restore must bring back exactly.
var countedTables = []string{"users", "products", "skus", "orders", "order_lines", "payments", "stock_ledger", "reservations"}

func tableCounts(t *testing.T, dbURL, dataDir string) map[string]int64 {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dbURL, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int64{}
	for _, table := range countedTables {
		var n int64
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// engines gives each test an empty database per engine: SQLite in a data dir, and a
// MariaDB database when MINIMART_TEST_MYSQL_URL is set.
func engines(t *testing.T, fn func(t *testing.T, newDB func() string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, func() string { return "" }) })
	t.Run("mariadb", func(t *testing.T) { fn(t, func() string { return sqldbtest.MySQLDatabaseURL(t) }) })
}

// shopEnv is safeEnv for a shop on dbURL ("" for SQLite in the data dir).
func shopEnv(t *testing.T, dbURL string) map[string]string {
	vars := map[string]string{"MINIMART_DB_URL": dbURL}
	if dbURL != "" {
		vars["MINIMART_JWT_SECRET"] = "backup-test-secret-0123456789abcdef"
	}
	return safeEnv(t, vars)
}

// TestBackupUnderLoadRestoresTheSnapshot takes a backup while buyers place orders, restores
// it into an empty database of the same engine, and finds there exactly the rows the
// snapshot counted — more orders than before the backup began, no more than after it —
// with every invariant holding.
func TestBackupUnderLoadRestoresTheSnapshot(t *testing.T) {
	engines(t, func(t *testing.T, newDB func() string) {
		src := shopEnv(t, newDB())
		if _, _, err := runTest(t, []string{"demo", "load", "--products", "20"}, src); err != nil {
			t.Fatalf("demo load: %v", err)
		}
		shop := apptest.Start(t, map[string]string{"MINIMART_DB_URL": src["MINIMART_DB_URL"], "MINIMART_DATA_DIR": src["MINIMART_DATA_DIR"],
			"MINIMART_JWT_SECRET": src["MINIMART_JWT_SECRET"], "MINIMART_RATELIMITS": "0"})
		var skus []string
		rows, err := shop.App.DB.Read().Query("SELECT sku_id FROM stock WHERE available > 100 ORDER BY sku_id LIMIT 10")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			skus = append(skus, fmt.Sprint(id))
		}
		rows.Close()
		if len(skus) == 0 {
			t.Fatal("the demo catalog has no SKU with stock")
		}
		_, tokens := shop.Register("buyer1", "buyer-pass-123")
		addr := shop.Expect(201, "POST", "/api/v1/me/addresses", tokens.AccessToken, map[string]any{
			"recipient": "张三", "phone": "13800000000", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园路 1 号"}, nil)
		var placed atomic.Int64
		order := func(i int) {
			r := shop.DoWith("POST", "/api/v1/orders", tokens.AccessToken, map[string]any{
				"items": []map[string]any{{"sku_id": skus[i%len(skus)], "quantity": 1}}, "address_id": addr["id"]},
				map[string]string{"Idempotency-Key": fmt.Sprintf("load-%d", i)})
			if r.Status != 201 {
				return
			}
			placed.Add(1)
			if i%3 != 0 {
				return
			}
			// Every third order is paid through the sandbox provider, as a buyer would.
			var o struct {
				ID string `json:"id"`
			}
			r.Decode(t, &o)
			p := shop.DoWith("POST", "/api/v1/orders/"+o.ID+"/payments", tokens.AccessToken, map[string]string{"method": "sandbox"},
				map[string]string{"Idempotency-Key": "pay-" + o.ID})
			var pay struct {
				PayURL string `json:"pay_url"`
			}
			p.Decode(t, &pay)
			if err := run(context.Background(), []string{"sandbox", "pay", pay.PayURL}, env(nil), io.Discard, io.Discard); err != nil {
				t.Errorf("sandbox pay %s: %v", pay.PayURL, err)
			}
		}
		for i := range 20 {
			order(i)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 20; ; i++ {
				select {
				case <-stop:
					return
				default:
					order(i)
				}
			}
		}()
		before := tableCounts(t, src["MINIMART_DB_URL"], src["MINIMART_DATA_DIR"])
		image := "0f343b0931126a20f133d67c2b018a3b5e0c2a8c7b5c5a9e3f1a2b3c4d5e6f70.png"
		if err := os.WriteFile(filepath.Join(src["MINIMART_DATA_DIR"], "media", image), []byte("an uploaded image"), 0o600); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "shop.tar.gz")
		out, _, err := runTest(t, []string{"backup", "--to", file}, src)
		if err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		// Keep the load on until at least one more order is in after the backup ended.
		n := placed.Load()
		apptest.Eventually(t, "an order after the backup", func() bool { return placed.Load() > n })
		close(stop)
		wg.Wait()
		after := tableCounts(t, src["MINIMART_DB_URL"], src["MINIMART_DATA_DIR"])

		sum, err := backup.Verify(file, nil)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if sum.Rows["orders"] < before["orders"] || sum.Rows["orders"] >= after["orders"] {
			t.Errorf("the backup holds %d orders; before it began there were %d, after the load %d", sum.Rows["orders"], before["orders"], after["orders"])
		}
		if sum.Rows["payments"] == 0 || sum.Rows["stock_ledger"] == 0 {
			t.Errorf("the backup holds %d payments and %d ledger rows: the load paid nothing", sum.Rows["payments"], sum.Rows["stock_ledger"])
		}
		t.Logf("snapshot: %v orders (before %d, after %d), %d payments", sum.Rows["orders"], before["orders"], after["orders"], sum.Rows["payments"])
		dst := shopEnv(t, newDB())
		if out, _, err := runTest(t, []string{"restore", "--from", file}, dst); err != nil {
			t.Fatalf("restore: %v\n%s", err, out)
		}
		if b, err := os.ReadFile(filepath.Join(dst["MINIMART_DATA_DIR"], "media", image)); err != nil || string(b) != "an uploaded image" {
			t.Errorf("uploaded image after restore: %q, %v", b, err)
		}
		restored := tableCounts(t, dst["MINIMART_DB_URL"], dst["MINIMART_DATA_DIR"])
		for _, table := range countedTables {
			if restored[table] != sum.Rows[table] {
				t.Errorf("%s: %d rows restored, the snapshot counted %d", table, restored[table], sum.Rows[table])
			}
		}
		if out, _, err := runTest(t, []string{"check"}, dst); err != nil || !strings.Contains(out, "ok: no violations") {
			t.Errorf("check after restore: %v\n%s", err, out)
		}
		if out, _, err := runTest(t, []string{"check"}, src); err != nil {
			t.Errorf("check of the source: %v\n%s", err, out)
		}

		t.Run("refusals", func(t *testing.T) { testRefusals(t, file, dst, newDB) })

		// --force replaces the Minimart tables of a database holding data, and leaves another
		// application's table in it alone.
		db, err := sqldb.Open(context.Background(), dst["MINIMART_DB_URL"], dst["MINIMART_DATA_DIR"])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Write().Exec("CREATE TABLE other_app (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec("INSERT INTO other_app (id) VALUES (42)"); err != nil {
			t.Fatal(err)
		}
		if db.Dialect == sqldb.SQLite {
			// The SQLite restore replaces the whole file: there, another application's tables
			// have no business.
			db.Write().Exec("DROP TABLE other_app")
		}
		if _, err := db.Write().Exec("DELETE FROM stock_ledger"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if out, _, err := runTest(t, []string{"restore", "--from", file, "--force"}, dst); err != nil {
			t.Fatalf("restore --force: %v\n%s", err, out)
		}
		if got := tableCounts(t, dst["MINIMART_DB_URL"], dst["MINIMART_DATA_DIR"]); got["stock_ledger"] != sum.Rows["stock_ledger"] {
			t.Errorf("after restore --force: %d ledger rows, the snapshot counted %d", got["stock_ledger"], sum.Rows["stock_ledger"])
		}
		if dst["MINIMART_DB_URL"] != "" {
			db, err := sqldb.Open(context.Background(), dst["MINIMART_DB_URL"], "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var id int
			if err := db.Read().QueryRow("SELECT id FROM other_app").Scan(&id); err != nil || id != 42 {
				t.Errorf("another application's table after restore --force: %d, %v", id, err)
			}
		}
	})
}

// testRefusals restores files that must be refused and checks nothing changed.
func testRefusals(t *testing.T, good string, full map[string]string, newDB func() string) {
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)/2] ^= 0xff
	// A migrated, empty target: a refusal must leave its tables as they are.
	empty := shopEnv(t, newDB())
	if _, _, err := runTest(t, []string{"migrate"}, empty); err != nil {
		t.Fatalf("migrate the target: %v", err)
	}
	cases := []struct {
		name, file string
		target     map[string]string
		want       string
	}{
		{"corrupt", write("corrupt.tar.gz", corrupt), empty, "corrupt or truncated"},
		{"truncated", write("truncated.tar.gz", data[:len(data)*2/3]), empty, "corrupt or truncated"},
		{"newer schema", write("newer.tar.gz", withHeader(t, data, func(h *backup.Header) { h.Schema["order"] = 999 })), empty,
			"order version 999 (this binary knows up to"},
		{"other engine", write("engine.tar.gz", withHeader(t, data, func(h *backup.Header) { h.Engine = otherEngine(h.Engine) })), empty,
			"taken on another database engine"},
		{"non-empty target", good, full, "not empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := tableCounts(t, c.target["MINIMART_DB_URL"], c.target["MINIMART_DATA_DIR"])
			_, _, err := runTest(t, []string{"restore", "--from", c.file}, c.target)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("restore: %v, want a refusal saying %q", err, c.want)
			}
			if after := tableCounts(t, c.target["MINIMART_DB_URL"], c.target["MINIMART_DATA_DIR"]); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused restore changed the target: %v, then %v", before, after)
			}
		})
	}
}

func otherEngine(d sqldb.Dialect) sqldb.Dialect {
	if d == sqldb.SQLite {
		return sqldb.MySQL
	}
	return sqldb.SQLite
}

// withHeader rewrites a backup with its header changed by edit and its checksums made
// right again: a well-formed file whose content must be refused.
func withHeader(t *testing.T, data []byte, edit func(*backup.Header)) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	var sums strings.Builder
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		switch hdr.Name {
		case "header.json":
			var h backup.Header
			if err := json.Unmarshal(body, &h); err != nil {
				t.Fatal(err)
			}
			edit(&h)
			body, _ = json.Marshal(h)
		case "SHA256SUMS":
			body = []byte(sums.String())
		}
		if hdr.Name != "SHA256SUMS" {
			s := sha256.Sum256(body)
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), hdr.Name)
		}
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	gw.Close()
	return out.Bytes()
}

// TestBackupKeepRotates writes a timestamped backup into a folder and removes the oldest
// beyond --keep, leaving files it did not name alone.
func TestBackupKeepRotates(t *testing.T) {
	vars := safeEnv(t, nil)
	dir := t.TempDir()
	for _, name := range []string{"minimart-20240101T000000Z.tar.gz", "minimart-20250101T000000Z.tar.gz", "minimart-20260101T000000Z.tar.gz", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runTest(t, []string{"backup", "--to", dir, "--keep", "2"}, vars)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] != "minimart-20260101T000000Z.tar.gz" || !strings.HasPrefix(names[1], "minimart-2026") || names[2] != "notes.txt" {
		t.Fatalf("folder holds %v, want the newest old backup, the new one and notes.txt", names)
	}
	if _, err := backup.Verify(filepath.Join(dir, names[1]), nil); err != nil {
		t.Errorf("the new backup: %v", err)
	}
	if !strings.Contains(out, "removed old backup") || strings.Count(out, "removed old backup") != 2 {
		t.Errorf("output %q does not name the two removed backups", out)
	}

	if _, _, err := runTest(t, []string{"backup", "--to", filepath.Join(dir, "one.tar.gz"), "--keep", "2"}, vars); err == nil ||
		!strings.Contains(err.Error(), "--keep rotates backups in a folder") {
		t.Errorf("--keep with a file: %v", err)
	}
}

func TestCheckRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--db", "order"},
		{"check", "--db", "catalog=sqlite:/tmp/x.db"},
		{"check", "--outbox-age", "0s"},
	} {
		_, _, err := runTest(t, args, safeEnv(t, nil))
		var u *usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestOwnTablesAreWhatTheMigrationsCreate: the tables a backup copies (found on a scratch
// SQLite database) are exactly the ones the migrations create on each engine, besides the
// version tables; another application's table in the same database is not among them.
func TestOwnTablesAreWhatTheMigrationsCreate(t *testing.T) {
	ctx := context.Background()
	sets := app.Migrations()
	own, err := backup.OwnTables(ctx, sets)
	if err != nil {
		t.Fatal(err)
	}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		if _, err := db.Write().Exec("CREATE TABLE other_app (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"
		if db.Dialect == sqldb.MySQL {
			q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
		}
		rows, err := db.Read().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			if !strings.HasPrefix(name, "schema_") && name != "other_app" {
				got = append(got, name)
			}
		}
		slices.Sort(got) // MariaDB's collation orders "_" otherwise
		if fmt.Sprint(got) != fmt.Sprint(own) {
			t.Errorf("%s holds %v, the backup copies %v", db.Dialect, got, own)
		}
	})
}

// TestCheckAcrossServiceDatabases: in the split shape the product service's check sees a
// hold past its expiry and, alone, cannot tell whether an order waits on it; given the
// order service's database with --db, it finds the pending order and passes.
func TestCheckAcrossServiceDatabases(t *testing.T) {
	split := func(modules, dataDir string) map[string]string {
		vars := safeEnv(t, map[string]string{"MINIMART_MODULES": modules, "MINIMART_DATA_DIR": dataDir,
			"MINIMART_SERVICE_TOKEN": "split-check-token-0123456789abcdef", "MINIMART_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
			"MINIMART_JWT_SECRET": "split-check-secret-0123456789abcdef"})
		for _, m := range config.Modules {
			if !slices.Contains(strings.Split(modules, ","), m) {
				vars[config.PeerVar(m)] = "http://127.0.0.1:1"
			}
		}
		return vars
	}
	product, orders := split("catalog,inventory", t.TempDir()), split("order,cart,payment,user", t.TempDir())
	for _, vars := range []map[string]string{product, orders} {
		if _, _, err := runTest(t, []string{"migrate"}, vars); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	open := func(vars map[string]string) *sqldb.DB {
		db, err := sqldb.Open(context.Background(), "", vars["MINIMART_DATA_DIR"])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	long := sqldb.Time(time.Now().Add(-time.Hour))
	if _, err := open(product).Write().Exec("INSERT INTO reservations (ref, status, expires_at, created_at, updated_at, placed)"+
		" VALUES ('2026120700000000001', 'held', ?, ?, ?, ?)", long, long, long, true); err != nil {
		t.Fatal(err)
	}
	if _, err := open(orders).Write().Exec("INSERT INTO orders (id, order_no, user_id, status, items_total, shipping_fee, payable, address,"+
		" pay_deadline, staff_note, created_at, updated_at) VALUES (1, '2026120700000000001', 7, 'pending_payment', 500, 0, 500, '{}', ?, '', ?, ?)",
		long, long, long); err != nil {
		t.Fatal(err)
	}

	out, _, err := runTest(t, []string{"check"}, product)
	if err == nil || !strings.Contains(out, "VIOLATION reservation_orphaned: reservation 2026120700000000001") ||
		!strings.Contains(out, "skipped: reservations ↔ orders") {
		t.Errorf("check of the product service alone: %v\n%s", err, out)
	}
	ordersDB := "--db=order=sqlite:" + filepath.Join(orders["MINIMART_DATA_DIR"], "minimart.db")
	paymentsDB := "--db=payment=sqlite:" + filepath.Join(orders["MINIMART_DATA_DIR"], "minimart.db")
	out, _, err = runTest(t, []string{"check", ordersDB, paymentsDB}, product)
	if err != nil || !strings.Contains(out, "ok: no violations") || strings.Contains(out, "skipped") {
		t.Errorf("check with the order service's database: %v\n%s", err, out)
	}
}
