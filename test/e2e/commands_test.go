package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// waitFor polls check until it holds, failing after limit: for effects a running server
// applies on its own schedule (events relayed, an index rebuilt).
func waitFor(t *testing.T, limit time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func searchTotal(t *testing.T, base, q string) int {
	t.Helper()
	var page struct {
		Total int `json:"total"`
	}
	call(t, "GET", base+"/api/v1/search?q="+url.QueryEscape(q), "", nil, http.StatusOK, &page)
	return page.Total
}

// outboxDrained reports whether every event the server's database holds was published
// and handled, from the /metrics of the operator listener at ops.
func outboxDrained(t *testing.T, ops string) bool {
	t.Helper()
	return strings.Contains(string(call(t, "GET", ops+"/metrics", "", nil, http.StatusOK, nil)), "\nminimart_outbox_pending 0\n")
}

// mariaDBEnv is the environment of a shop on a fresh MariaDB database (skipped, or failed
// under MINIMART_REQUIRE_SERVICES=1, without MINIMART_TEST_MYSQL_URL).
func mariaDBEnv(t *testing.T) []string {
	b := make([]byte, 24)
	rand.Read(b)
	return []string{"MINIMART_DB_URL=" + sqldbtest.MySQLDatabaseURL(t), "MINIMART_JWT_SECRET=" + hex.EncodeToString(b)}
}

// TestCommandsBesideARunningServer runs every operator command while `minimart serve` runs
// on the same data dir and database, embedded and on MariaDB: none opens what the server
// holds (the search index), each succeeds, and what they change reaches the server:
// the staff account logs in, the demo products become searchable through their events,
// a reindex makes the server rebuild its own index in place.
func TestCommandsBesideARunningServer(t *testing.T) {
	t.Parallel()
	shapes := []struct {
		name string
		env  func(t *testing.T) []string
	}{
		{"embedded", func(*testing.T) []string { return nil }},
		{"mariadb", mariaDBEnv},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := append(shape.env(t), "MINIMART_DATA_DIR="+filepath.Join(dir, "data"), "MINIMART_DEMO=0",
				"MINIMART_PASSWORD_COST=4", "MINIMART_SCHEDULE_INTERVAL=200ms")
			s := startServer(t, env...)
			run := func(args ...string) result {
				t.Helper()
				r := runMinimart(t, dir, env, args...)
				if r.code != 0 {
					t.Fatalf("minimart %s beside the server: exit %d\n--- stdout:\n%s--- stderr:\n%s--- server:\n%s",
						strings.Join(args, " "), r.code, r.stdout, r.stderr, s.output())
				}
				return r
			}

			if r := run("migrate", "status"); !strings.Contains(r.stdout, "applied") {
				t.Errorf("migrate status beside the server:\n%s", r.stdout)
			}

			const password = "Op3rator-strong-pw"
			pw := filepath.Join(dir, "password")
			if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			run("admin", "create", "--username", "ops1", "--password-file", pw, "--role", "operator")
			staffLogin(t, s.base, credentials{"ops1", password})

			if phones := searchTotal(t, s.base, "手机"); phones != 0 {
				t.Fatalf("an empty catalog finds %d phones", phones)
			}
			r := run("demo", "load", "--products", "20")
			if !strings.Contains(r.stdout, "loaded the demo catalog") || !strings.Contains(r.stdout, "a running server does so now") {
				t.Errorf("demo load output:\n%s", r.stdout)
			}
			// Generous: under -race beside the rest of the suite each index update is slow.
			waitFor(t, 150*time.Second, "the server indexes the demo products from their events", func() bool {
				return outboxDrained(t, s.ops) && searchTotal(t, s.base, "手机") > 0
			})
			phones := searchTotal(t, s.base, "手机")
			var list struct {
				Total int `json:"total"`
			}
			call(t, "GET", s.base+"/api/v1/products", "", nil, http.StatusOK, &list)
			if list.Total == 0 {
				t.Fatal("the demo products are not listed")
			}

			r = run("reindex")
			if !strings.Contains(r.stdout, "reindex requested") || !strings.Contains(r.stdout, "rebuilds it within") {
				t.Errorf("reindex beside the server should leave the rebuild to it:\n%s", r.stdout)
			}
			s.waitStderr(t, "outdated: a reindex was requested", 30*time.Second)
			waitFor(t, 120*time.Second, "the server rebuilds its index in place", func() bool {
				return strings.Count(s.stderr.String(), "search index built from the catalog") >= 2
			})
			if got := searchTotal(t, s.base, "手机"); got != phones {
				t.Fatalf("after the rebuild search finds %d phones, before %d", got, phones)
			}

			day := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
			if r := run("payments", "reconcile", "--date", day); !strings.Contains(r.stdout, "agree") {
				t.Errorf("payments reconcile:\n%s", r.stdout)
			}
			s.stop(t)
		})
	}
}

// TestCatalogSearchFollowsTheDatabase: one data dir, two databases. The search index
// records the database it was built from; started on another database it answers from
// that one, never from the index of the first, and started on the first again it is
// rebuilt from it.
func TestCatalogSearchFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	others := []struct {
		name string
		env  func(t *testing.T) []string
	}{
		{"another sqlite file", func(t *testing.T) []string {
			return []string{"MINIMART_DB_URL=sqlite:" + filepath.Join(t.TempDir(), "other.db")}
		}},
		{"mariadb", mariaDBEnv},
	}
	for _, other := range others {
		t.Run(other.name, func(t *testing.T) {
			t.Parallel()
			data := "MINIMART_DATA_DIR=" + t.TempDir()
			embedded := []string{data, "MINIMART_DEMO=0", "MINIMART_SCHEDULE_INTERVAL=200ms"}
			otherEnv := append(other.env(t), data, "MINIMART_DEMO=0", "MINIMART_SCHEDULE_INTERVAL=200ms")

			if r := runMinimart(t, t.TempDir(), embedded, "demo", "load", "--products", "20"); r.code != 0 {
				t.Fatalf("demo load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			first := startServer(t, embedded...)
			// Generous: under -race beside the rest of the suite each index update is slow.
			waitFor(t, 150*time.Second, "the demo catalog indexed", func() bool {
				return outboxDrained(t, first.ops) && searchTotal(t, first.base, "手机") >= 5
			})
			phones := searchTotal(t, first.base, "手机")
			first.stop(t)

			second := startServer(t, otherEnv...)
			if got := searchTotal(t, second.base, "手机"); got != 0 {
				t.Fatalf("on the other, empty database search finds %d phones: the first database's index answered\n%s", got, second.output())
			}
			second.waitStderr(t, "search index built from the catalog", 30*time.Second)
			if got := searchTotal(t, second.base, "手机"); got != 0 {
				t.Fatalf("on the other database after its index was built, search finds %d phones", got)
			}
			second.stop(t)

			third := startServer(t, embedded...)
			waitFor(t, 120*time.Second, "the index rebuilt from the first database", func() bool {
				return searchTotal(t, third.base, "手机") == phones
			})
			third.stop(t)
		})
	}
}
