// Package e2e starts the real minimart binary and drives it as a client and an operator
// would: over HTTP, through its command line, its environment and its signals.
package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/user"
)

// binary is the minimart executable built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds cmd/minimart from the module root (with -race when this test binary
// has it, so races in the server fail these tests too), runs the tests and removes the build.
func buildAndRun(m *testing.M) int {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(gomod)), "go.mod") {
		fmt.Fprintf(os.Stderr, "e2e: cannot find the module root (go env GOMOD = %q): %v\n", gomod, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "minimart-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "minimart")
	args := []string{"build"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-o", binary, "./cmd/minimart")
	build := exec.Command("go", args...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s: %v\n%s", strings.Join(args, " "), err, out)
		return 1
	}
	return m.Run()
}

// TestEmbeddedJourney is the first start of a fresh shop with no configuration but a data
// dir: a buyer registers, logs in, sees itself, refreshes its session; the printed admin
// password works and the admin sees the buyer; SIGTERM lets an in-flight request finish and
// the process exits 0.
func TestEmbeddedJourney(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, "MINIMART_DATA_DIR="+dataDir)
	if !strings.Contains(s.stdout.String(), "sqlite:"+dataDir) {
		t.Errorf("startup banner does not name the SQLite file in %s\n%s", dataDir, s.output())
	}

	// Buyer: register, log in, me.
	c := newBuyer()
	reg := register(t, s.base, c)
	buyerID := reg.User.id(t)
	lg := login(t, s.base, c)
	if got := lg.User.id(t); got != buyerID {
		t.Errorf("login user id %s, want %s", got, buyerID)
	}
	if lg.Tokens.RefreshToken == reg.Tokens.RefreshToken {
		t.Errorf("login returned the registration's refresh token; each login must start its own session")
	}
	if got := me(t, s.base, lg.Tokens.AccessToken); got != buyerID {
		t.Errorf("GET /me id %s, want %s", got, buyerID)
	}
	call(t, "GET", s.base+"/api/v1/me", "", nil, http.StatusUnauthorized, nil)
	call(t, "GET", s.base+"/api/v1/me", "not-a-token", nil, http.StatusUnauthorized, nil)
	var wrong apiError
	call(t, "POST", s.base+"/api/v1/auth/login", "", credentials{c.Username, c.Password + "x"}, http.StatusUnauthorized, &wrong)
	if wrong.Error.Code == "" {
		t.Errorf("wrong password: no error code in the envelope")
	}

	// Refresh rotates: a new refresh token; presenting the old one again is taken as theft
	// and revokes the whole login, the new token included.
	var rot struct {
		Tokens tokenPair `json:"tokens"`
	}
	call(t, "POST", s.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": lg.Tokens.RefreshToken}, http.StatusOK, &rot)
	if rot.Tokens.RefreshToken == "" || rot.Tokens.RefreshToken == lg.Tokens.RefreshToken {
		t.Fatalf("refresh did not rotate the refresh token: %+v", rot.Tokens)
	}
	if got := me(t, s.base, rot.Tokens.AccessToken); got != buyerID {
		t.Errorf("GET /me with the refreshed access token: id %s, want %s", got, buyerID)
	}
	var reused apiError
	call(t, "POST", s.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": lg.Tokens.RefreshToken}, http.StatusUnauthorized, &reused)
	if reused.Error.Code != "refresh_token_reused" {
		t.Errorf("reused refresh token: code %q, want refresh_token_reused", reused.Error.Code)
	}
	var revoked apiError
	call(t, "POST", s.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": rot.Tokens.RefreshToken}, http.StatusUnauthorized, &revoked)
	if revoked.Error.Code == "" {
		t.Errorf("refresh after reuse: no error code in the envelope")
	}
	// Another login (registration's session) is untouched by that revocation.
	call(t, "POST", s.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": reg.Tokens.RefreshToken}, http.StatusOK, nil)

	// Admin: the printed bootstrap password logs in and the admin finds the buyer.
	name, password := s.bootstrapAdmin(t)
	adm := staffLogin(t, s.base, credentials{name, password})
	if adm.Staff.Role != "admin" {
		t.Errorf("bootstrap account role %q, want admin", adm.Staff.Role)
	}
	var users struct {
		Items []account `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/admin/users", adm.Tokens.AccessToken, nil, http.StatusOK, &users)
	if !slices.ContainsFunc(users.Items, func(a account) bool { return a.id(t) == buyerID && a.Username == c.Username }) {
		t.Errorf("GET /admin/users does not list buyer %s (%s): %+v", buyerID, c.Username, users.Items)
	}
	call(t, "GET", s.base+"/api/v1/admin/users", lg.Tokens.AccessToken, nil, http.StatusForbidden, nil)
	call(t, "GET", s.base+"/api/v1/me", adm.Tokens.AccessToken, nil, http.StatusForbidden, nil)

	// Graceful stop with a request in flight: its handler is waiting for the body when
	// SIGTERM comes. The process must keep running until that request is answered, then
	// exit 0.
	inFlight := startSlowRequest(t, s.addr, "/api/v1/auth/login", c)
	s.terminate(t)
	s.waitStderr(t, "shutting down", stopTimeout)
	select {
	case <-s.done:
		t.Fatalf("minimart exited with a request in flight (%v)\n%s", s.waitErr, s.output())
	default:
	}
	resp, body := inFlight.finish(t)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"access_token"`) {
		t.Errorf("in-flight login during shutdown: status %d, body %s; want 200 with tokens", resp.StatusCode, body)
	}
	s.waitClean(t)
	checkInvariants(t, "MINIMART_DATA_DIR="+dataDir)
}

// TestRestartKeepsData stops the embedded shop and starts it again on the same data dir:
// accounts, sessions and the signing key survive, and no second admin password is printed.
func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := "MINIMART_DATA_DIR=" + dataDir

	first := startServer(t, env)
	adminName, adminPassword := first.bootstrapAdmin(t)
	c := newBuyer()
	reg := register(t, first.base, c)
	id := reg.User.id(t)
	first.stop(t)

	second := startServer(t, env)
	if strings.Contains(second.stdout.String(), "Created admin account") {
		t.Errorf("second start printed a new admin password\n%s", second.output())
	}
	if got := me(t, second.base, reg.Tokens.AccessToken); got != id {
		t.Errorf("access token from before the restart: id %s, want %s", got, id)
	}
	var rot struct {
		Tokens tokenPair `json:"tokens"`
	}
	call(t, "POST", second.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": reg.Tokens.RefreshToken}, http.StatusOK, &rot)
	if got := me(t, second.base, rot.Tokens.AccessToken); got != id {
		t.Errorf("access token refreshed after the restart: id %s, want %s", got, id)
	}
	if got := login(t, second.base, c).User.id(t); got != id {
		t.Errorf("login after restart: id %s, want %s", got, id)
	}
	staffLogin(t, second.base, credentials{adminName, adminPassword})
	second.stop(t)
}

// TestProductionShape runs two instances against MariaDB, Redis and RabbitMQ with a shared
// signing secret: each is ready with every dependency ok, and a session started on one is
// honoured by the other. Skips (or fails with MINIMART_REQUIRE_SERVICES=1) without the
// MINIMART_TEST_* service URLs.
func TestProductionShape(t *testing.T) {
	t.Parallel()
	dbURL := sqldbtest.MySQLDatabaseURL(t)
	redisURL := servicetest.RedisURL(t)
	amqpURL := servicetest.AMQPURL(t)
	b := make([]byte, 24)
	rand.Read(b)
	secret := hex.EncodeToString(b) // 48 characters
	env := []string{
		"MINIMART_DB_URL=" + dbURL,
		"MINIMART_REDIS_URL=" + redisURL,
		"MINIMART_AMQP_URL=" + amqpURL,
		"MINIMART_AMQP_PREFIX=mmtest-" + secret[:8],
		"MINIMART_INVENTORY_QUEUE=mmtest-" + secret[:8] + ".inventory_update",
		"MINIMART_CACHE_PREFIX=mmtest-" + secret[:8] + ":",
		"MINIMART_JWT_SECRET=" + secret,
	}
	servicetest.CleanBroker(t, amqpURL, "mmtest-"+secret[:8])
	allOK := func(r readiness) bool {
		for _, name := range []string{"database", "cache", "broker"} {
			if r.Checks[name].Status != "ok" {
				return false
			}
		}
		return r.Status == "ok"
	}

	// Each instance has its own data dir (its search index), as in a real deployment.
	one := startServer(t, append(env, "MINIMART_NODE_ID=1", "MINIMART_DATA_DIR="+t.TempDir())...)
	one.waitReady(t, allOK)
	if strings.Contains(one.stdout.String(), "Created admin account") {
		t.Errorf("production shape created a bootstrap admin; it must only do so embedded\n%s", one.output())
	}
	if strings.Contains(one.stdout.String(), "sqlite:") {
		t.Errorf("production shape reports SQLite\n%s", one.output())
	}
	c := newBuyer()
	reg := register(t, one.base, c)
	id := reg.User.id(t)
	lg := login(t, one.base, c)
	if got := me(t, one.base, lg.Tokens.AccessToken); got != id {
		t.Errorf("GET /me id %s, want %s", got, id)
	}

	two := startServer(t, append(env, "MINIMART_NODE_ID=2", "MINIMART_DATA_DIR="+t.TempDir())...)
	two.waitReady(t, allOK)
	if got := me(t, two.base, lg.Tokens.AccessToken); got != id {
		t.Errorf("second instance: GET /me with the first one's token: id %s, want %s", got, id)
	}
	var rot struct {
		Tokens tokenPair `json:"tokens"`
	}
	call(t, "POST", two.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": lg.Tokens.RefreshToken}, http.StatusOK, &rot)
	if got := me(t, one.base, rot.Tokens.AccessToken); got != id {
		t.Errorf("first instance: GET /me with a token refreshed on the second: id %s, want %s", got, id)
	}

	two.stop(t)
	one.stop(t)
	for _, s := range []*server{one, two} {
		if strings.Contains(s.output(), secret) {
			t.Errorf("MINIMART_JWT_SECRET appears in the output\n%s", s.output())
		}
	}
}

// TestBadConfiguration: a configuration mistake exits 2 before serving, names the variable
// and never repeats a secret value.
func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     []string
		want    []string // in stderr
		secrets []string // never in stdout or stderr
	}{
		{
			name:    "database URL with a foreign scheme",
			env:     []string{"MINIMART_DB_URL=postgres://u:topsecret@h/db"},
			want:    []string{"MINIMART_DB_URL"},
			secrets: []string{"topsecret"},
		},
		{
			name:    "database URL that does not parse",
			env:     []string{"MINIMART_DB_URL=mysql://u:topsecret@h:port/db"},
			want:    []string{"MINIMART_DB_URL"},
			secrets: []string{"topsecret"},
		},
		{
			name:    "short JWT secret with MySQL",
			env:     []string{"MINIMART_DB_URL=mysql://u:topsecret@127.0.0.1:1/db", "MINIMART_JWT_SECRET=tinysecret42"},
			want:    []string{"MINIMART_JWT_SECRET"},
			secrets: []string{"tinysecret42", "topsecret"},
		},
		{
			name:    "no JWT secret with MySQL",
			env:     []string{"MINIMART_DB_URL=mysql://u:topsecret@127.0.0.1:1/db"},
			want:    []string{"MINIMART_JWT_SECRET"},
			secrets: []string{"topsecret"},
		},
		{
			name: "token lifetime that is not a duration",
			env:  []string{"MINIMART_ACCESS_TOKEN_TTL=abc"},
			want: []string{"MINIMART_ACCESS_TOKEN_TTL"},
		},
		{
			name:    "Redis URL with a foreign scheme",
			env:     []string{"MINIMART_REDIS_URL=http://:redispass77@127.0.0.1:6379/0"},
			want:    []string{"MINIMART_REDIS_URL"},
			secrets: []string{"redispass77"},
		},
		{
			name:    "Redis URL with a bad database number",
			env:     []string{"MINIMART_REDIS_URL=redis://:redispass77@127.0.0.1:6379/notadb"},
			want:    []string{"MINIMART_REDIS_URL"},
			secrets: []string{"redispass77"},
		},
		{
			name:    "AMQP URL with a foreign scheme",
			env:     []string{"MINIMART_AMQP_URL=http://guest:amqppass77@127.0.0.1:5672/"},
			want:    []string{"MINIMART_AMQP_URL"},
			secrets: []string{"amqppass77"},
		},
		{
			name:    "WeChat secret without appid",
			env:     []string{"MINIMART_WECHAT_SECRET=wxsecret77"},
			want:    []string{"MINIMART_WECHAT_APPID"},
			secrets: []string{"wxsecret77"},
		},
		{
			name: "every problem at once",
			env:  []string{"MINIMART_ACCESS_TOKEN_TTL=abc", "MINIMART_NODE_ID=5000", "MINIMART_LOG_LEVEL=loud"},
			want: []string{"MINIMART_ACCESS_TOKEN_TTL", "MINIMART_NODE_ID", "MINIMART_LOG_LEVEL"},
		},
		{
			name: "a split with every problem at once",
			args: []string{"serve", "--modules", "order,cart"},
			env:  []string{"MINIMART_PEER_CART=http://127.0.0.1:1", "MINIMART_PEER_USER=ftp://x"},
			want: []string{"MINIMART_PEER_CART", "MINIMART_PEER_USER", "MINIMART_PEER_CATALOG", "MINIMART_PEER_INVENTORY",
				"MINIMART_SERVICE_TOKEN", "MINIMART_AMQP_URL"},
		},
		{
			name:    "a short service token",
			env:     []string{"MINIMART_MODULES=user", "MINIMART_SERVICE_TOKEN=svctoken77", "MINIMART_AMQP_URL=amqp://guest:amqppass77@127.0.0.1:1/"},
			want:    []string{"MINIMART_SERVICE_TOKEN"},
			secrets: []string{"svctoken77", "amqppass77"},
		},
		{
			name: "unknown module",
			args: []string{"serve", "--modules", "catalog,shipping"},
			want: []string{"MINIMART_MODULES", `"shipping"`},
		},
		{
			name: "unknown subcommand",
			args: []string{"frobnicate"},
			want: []string{`unknown command "frobnicate"`},
		},
		{
			name: "unknown flag",
			args: []string{"serve", "--bogus"},
			want: []string{"bogus"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := append([]string{
				"MINIMART_DATA_DIR=" + filepath.Join(dir, "data"),
				"MINIMART_ADDR=127.0.0.1:0",
				"MINIMART_PASSWORD_COST=4",
			}, tt.env...)
			r := runMinimart(t, dir, env, tt.args...)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
			for _, s := range tt.secrets {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output repeats the secret %q:\n--- stdout:\n%s--- stderr:\n%s", s, r.stdout, r.stderr)
				}
			}
			if apiLine.MatchString(r.stdout) {
				t.Errorf("it started serving:\n%s", r.stdout)
			}
		})
	}
}

// TestMigrateAndAdminCreate drives the operator commands on a fresh data dir: migrate
// status and up, then admin create for an operator who can then log in with the operator
// role only; weak passwords are refused with the rule.
func TestMigrateAndAdminCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	env := []string{"MINIMART_DATA_DIR=" + dataDir, "MINIMART_PASSWORD_COST=4"}

	status := func(wantState string) []string {
		t.Helper()
		r := runMinimart(t, dir, env, "migrate", "status")
		if r.code != 0 {
			t.Fatalf("migrate status: exit %d\n%s", r.code, r.stderr)
		}
		return migrationRows(t, r.stdout, wantState)
	}
	pending := status("pending")
	if len(pending) == 0 {
		t.Fatalf("migrate status lists no migrations on a fresh data dir")
	}
	if r := runMinimart(t, dir, env, "migrate", "up"); r.code != 0 {
		t.Fatalf("migrate up: exit %d\n%s", r.code, r.stderr)
	} else if got := migrationRows(t, r.stdout, "applied"); !slices.Equal(got, pending) {
		t.Errorf("migrate up applied %v, want %v", got, pending)
	}
	if applied := status("applied"); !slices.Equal(applied, pending) {
		t.Errorf("after migrate up, status lists %v applied, want %v", applied, pending)
	}
	if r := runMinimart(t, dir, env, "migrate", "sideways"); r.code != 2 {
		t.Errorf("migrate sideways: exit %d, want 2\n%s", r.code, r.stderr)
	}

	writeFile := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Weak passwords: refused, and the message says what the rule is.
	for _, weak := range []string{"short1", "onlyletters", "12345678901", "xops1-and-digits9"} {
		f := writeFile("weak", weak+"\n")
		r := runMinimart(t, dir, env, "admin", "create", "--username", "ops1", "--password-file", f, "--role", "operator")
		if r.code == 0 {
			t.Errorf("admin create with password %q: exit 0, want a refusal", weak)
			continue
		}
		if !strings.Contains(r.stderr, user.PasswordRules) {
			t.Errorf("admin create with password %q: message does not state the rule %q:\n%s", weak, user.PasswordRules, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, weak) {
			t.Errorf("admin create repeats the password %q:\n%s%s", weak, r.stdout, r.stderr)
		}
	}

	const password = "Op3rator-strong-pw"
	f := writeFile("password", password+"\n")
	r := runMinimart(t, dir, env, "admin", "create", "--username", "ops1", "--password-file", f, "--role", "operator")
	if r.code != 0 || !strings.Contains(r.stdout, `created operator account "ops1"`) {
		t.Fatalf("admin create: exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Errorf("admin create printed the password")
	}
	if r := runMinimart(t, dir, env, "admin", "create", "--username", "ops1", "--password-file", f, "--role", "operator"); r.code == 0 {
		t.Errorf("second admin create of ops1: exit 0, want a refusal")
	}
	if r := runMinimart(t, dir, env, "admin", "create", "--username", "ops2", "--password-file", f, "--role", "root"); r.code == 0 {
		t.Errorf("admin create --role root: exit 0, want a refusal")
	} else if !strings.Contains(r.stderr, "role") {
		t.Errorf("admin create --role root: message does not name the role:\n%s", r.stderr)
	}

	s := startServer(t, env...)
	op := staffLogin(t, s.base, credentials{"ops1", password})
	if op.Staff.Role != "operator" || op.Staff.Username != "ops1" {
		t.Errorf("operator login: staff %+v, want ops1 with role operator", op.Staff)
	}
	var self account
	call(t, "GET", s.base+"/api/v1/admin/me", op.Tokens.AccessToken, nil, http.StatusOK, &self)
	if self.Username != "ops1" || self.Role != "operator" {
		t.Errorf("GET /admin/me: %+v, want ops1 operator", self)
	}
	call(t, "GET", s.base+"/api/v1/admin/users", op.Tokens.AccessToken, nil, http.StatusForbidden, nil)
	s.stop(t)
}

// migrationRows parses `migrate status|up` output and checks every row has wantState; it
// returns "module/version" for each row.
func migrationRows(t *testing.T, out, wantState string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !slices.Equal(strings.Fields(lines[0]), []string{"MODULE", "VERSION", "STATE", "FILE"}) {
		t.Fatalf("migrate output has no MODULE VERSION STATE FILE header:\n%s", out)
	}
	var rows []string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("migrate output row %q does not have 4 columns", l)
		}
		if f[2] != wantState {
			t.Errorf("migration %s/%s is %s, want %s", f[0], f[1], f[2], wantState)
		}
		rows = append(rows, f[0]+"/"+f[1])
	}
	return rows
}

// TestVersion: `minimart version` prints one line starting "minimart ".
func TestVersion(t *testing.T) {
	t.Parallel()
	r := runMinimart(t, t.TempDir(), nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "minimart ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("minimart version: exit %d, stdout %q; want 0 and one line starting \"minimart \"", r.code, r.stdout)
	}
}
