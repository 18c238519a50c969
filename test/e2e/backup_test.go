package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkInvariants runs `minimart check` with env (the settings of the shop to check) and
// fails the test on any violation. Scenarios end with it.
func checkInvariants(t *testing.T, env ...string) {
	t.Helper()
	r := runMinimart(t, t.TempDir(), env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, "ok: no violations") {
		t.Errorf("minimart check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestBackupRestoreCheck backs up a running embedded shop with the binary, restores the
// file into a new data dir, checks it, and serves it: the buyer's paid order and search are
// there. A damaged file is refused with exit 1 and the target left as it was.
func TestBackupRestoreCheck(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, "MINIMART_DATA_DIR="+dataDir)
	c := newBuyer()
	buyer := register(t, s.base, c).Tokens.AccessToken
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/products?page=1&page_size=1", "", nil, http.StatusOK, &list)
	if len(list.Items) == 0 {
		t.Fatal("the demo catalog is empty")
	}
	var product struct {
		SKUs []struct {
			ID string `json:"id"`
		} `json:"skus"`
	}
	call(t, "GET", s.base+"/api/v1/products/"+list.Items[0].ID, "", nil, http.StatusOK, &product)
	var addr, order map[string]any
	call(t, "POST", s.base+"/api/v1/me/addresses", buyer, map[string]any{"recipient": "王五", "phone": "13700000000",
		"province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路 9 号"}, http.StatusCreated, &addr)
	callWith(t, "POST", s.base+"/api/v1/orders", buyer, map[string]string{"Idempotency-Key": "backup-o1"},
		map[string]any{"items": []map[string]any{{"sku_id": product.SKUs[0].ID, "quantity": 1}}, "address_id": addr["id"]},
		http.StatusCreated, &order)

	env := []string{"MINIMART_DATA_DIR=" + dataDir}
	checkInvariants(t, env...)
	folder := t.TempDir()
	b := runMinimart(t, t.TempDir(), env, "backup", "--to", folder+"/", "--keep", "3")
	if b.code != 0 || !strings.Contains(b.stdout, "backup written") {
		t.Fatalf("backup beside the running server: exit %d\n%s%s", b.code, b.stdout, b.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(folder, "minimart-*.tar.gz"))
	if len(files) != 1 {
		t.Fatalf("backup folder holds %v", files)
	}
	s.stop(t)

	restored := t.TempDir()
	renv := []string{"MINIMART_DATA_DIR=" + restored}
	r := runMinimart(t, t.TempDir(), renv, "restore", "--from", files[0])
	if r.code != 0 || !strings.Contains(r.stdout, "search index rebuilt") {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkInvariants(t, renv...)
	again := runMinimart(t, t.TempDir(), renv, "restore", "--from", files[0])
	if again.code != 1 || !strings.Contains(again.stderr, "not empty") {
		t.Errorf("restore into the restored shop: exit %d, want 1 and \"not empty\"\n%s", again.code, again.stderr)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.tar.gz")
	os.WriteFile(damaged, data[:len(data)/2], 0o600)
	bad := runMinimart(t, t.TempDir(), []string{"MINIMART_DATA_DIR=" + t.TempDir()}, "restore", "--from", damaged)
	if bad.code != 1 || !strings.Contains(bad.stderr, "corrupt or truncated") || !strings.Contains(bad.stderr, "nothing was changed") {
		t.Errorf("restore of a truncated file: exit %d\n%s", bad.code, bad.stderr)
	}

	s2 := startServer(t, renv...)
	// The embedded signing key stays with its data dir, not in the backup (a secret), so the
	// buyer logs in again; the account came back with the rows.
	buyer = login(t, s2.base, c).Tokens.AccessToken
	var got map[string]any
	call(t, "GET", s2.base+"/api/v1/orders/"+order["id"].(string), buyer, nil, http.StatusOK, &got)
	if got["order_no"] != order["order_no"] {
		t.Errorf("restored order %v, want %v", got["order_no"], order["order_no"])
	}
	var found struct {
		Items []any `json:"items"`
	}
	call(t, "GET", s2.base+"/api/v1/search?q=%E6%89%8B%E6%9C%BA", "", nil, http.StatusOK, &found)
	if len(found.Items) == 0 {
		t.Errorf("search finds nothing in the restored shop")
	}
	s2.stop(t)
}
