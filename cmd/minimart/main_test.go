package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/config"
)

// env is a getenv over a map: run never sees the developer's real environment.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// safeEnv points the data dir at a temporary directory and the listen address at one that
// cannot be used, so a case that unexpectedly gets past configuration neither writes into
// the repository nor serves forever.
func safeEnv(t *testing.T, extra map[string]string) map[string]string {
	m := map[string]string{
		"MINIMART_DATA_DIR":      t.TempDir(),
		"MINIMART_ADDR":          "256.0.0.1:1",
		"MINIMART_OPS_ADDR":      "127.0.0.1:0",
		"MINIMART_PASSWORD_COST": "4",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// runTest calls run with a deadline and captured output.
func runTest(t *testing.T, args []string, vars map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, env(vars), &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("run %q did not return before its deadline", args)
	}
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := runTest(t, []string{"version"}, nil)
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	if !strings.HasPrefix(out, "minimart ") || strings.Count(out, "\n") != 1 || len(strings.TrimSpace(out)) <= len("minimart") {
		t.Errorf("version printed %q, want one line \"minimart <version>\"", out)
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			out, errOut, err := runTest(t, []string{arg}, nil)
			if err != nil {
				t.Fatalf("%s: %v", arg, err)
			}
			if errOut != "" {
				t.Errorf("%s wrote to stderr: %q", arg, errOut)
			}
			for _, cmd := range []string{"serve", "migrate", "admin create", "version", "help"} {
				if !strings.Contains(out, "  "+cmd) {
					t.Errorf("help does not list the command %q", cmd)
				}
			}
			for _, v := range config.Vars {
				if !strings.Contains(out, v.Name) {
					t.Errorf("help does not list %s", v.Name)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error message
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown serve flag", []string{"serve", "--bogus"}, "bogus"},
		{"flag without value", []string{"serve", "--addr"}, "addr"},
		{"unknown migrate action", []string{"migrate", "sideways"}, "sideways"},
		{"admin without subcommand", []string{"admin"}, "admin create"},
		{"admin unknown subcommand", []string{"admin", "delete"}, "admin create"},
		{"admin create without flags", []string{"admin", "create"}, "--username and --password-file"},
		{"admin create without password file", []string{"admin", "create", "--username", "ops1"}, "--password-file"},
		{"admin create with a missing password file", []string{"admin", "create", "--username", "ops1", "--password-file", "/nonexistent/pw"}, "--password-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runTest(t, tt.args, safeEnv(t, nil))
			var u *usageError
			if !errors.As(err, &u) {
				t.Fatalf("run %q = %v (%T), want a *usageError", tt.args, err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestUnknownCommandPrintsHelpToStderr(t *testing.T) {
	out, errOut, err := runTest(t, []string{"frobnicate"}, nil)
	var u *usageError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want *usageError", err)
	}
	if out != "" || !strings.Contains(errOut, "usage: minimart") {
		t.Errorf("stdout %q, stderr %q; want the usage on stderr only", out, errOut)
	}
}

// TestBadEnvironment: every configuration mistake is a usage error (exit 2) that names the
// variable and never repeats a secret value; all mistakes are reported at once.
func TestBadEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    []string // variable names in the message
		secrets []string // never in the message or the output
		// serveOnly: checked when the app is built, not by config.Load, so only serve
		// refuses it.
		serveOnly bool
	}{
		{"db url scheme", map[string]string{"MINIMART_DB_URL": "postgres://u:topsecret@h/db"}, []string{"MINIMART_DB_URL"}, []string{"topsecret"}, false},
		{"db url unparsable", map[string]string{"MINIMART_DB_URL": "mysql://u:topsecret@h:port/db"}, []string{"MINIMART_DB_URL"}, []string{"topsecret"}, false},
		{"redis url scheme", map[string]string{"MINIMART_REDIS_URL": "http://:redispass77@h:6379/0"}, []string{"MINIMART_REDIS_URL"}, []string{"redispass77"}, false},
		{"redis url bad database", map[string]string{"MINIMART_REDIS_URL": "redis://:redispass77@127.0.0.1:6379/notadb"}, []string{"MINIMART_REDIS_URL"}, []string{"redispass77"}, true},
		{"amqp url scheme", map[string]string{"MINIMART_AMQP_URL": "http://guest:amqppass77@h:5672/"}, []string{"MINIMART_AMQP_URL"}, []string{"amqppass77"}, false},
		{"short jwt secret", map[string]string{"MINIMART_DB_URL": "mysql://u:topsecret@127.0.0.1:1/db", "MINIMART_JWT_SECRET": "tinysecret42"}, []string{"MINIMART_JWT_SECRET"}, []string{"tinysecret42", "topsecret"}, false},
		{"short jwt secret embedded", map[string]string{"MINIMART_JWT_SECRET": "tinysecret42"}, []string{"MINIMART_JWT_SECRET"}, []string{"tinysecret42"}, false},
		{"missing jwt secret with mysql", map[string]string{"MINIMART_DB_URL": "mysql://u:topsecret@127.0.0.1:1/db"}, []string{"MINIMART_JWT_SECRET"}, []string{"topsecret"}, false},
		{"access ttl not a duration", map[string]string{"MINIMART_ACCESS_TOKEN_TTL": "abc"}, []string{"MINIMART_ACCESS_TOKEN_TTL"}, nil, false},
		{"access ttl too short", map[string]string{"MINIMART_ACCESS_TOKEN_TTL": "1s"}, []string{"MINIMART_ACCESS_TOKEN_TTL"}, nil, false},
		{"refresh ttl too long", map[string]string{"MINIMART_REFRESH_TOKEN_TTL": "10000h"}, []string{"MINIMART_REFRESH_TOKEN_TTL"}, nil, false},
		{"node id out of range", map[string]string{"MINIMART_NODE_ID": "1024"}, []string{"MINIMART_NODE_ID"}, nil, false},
		{"log level", map[string]string{"MINIMART_LOG_LEVEL": "loud"}, []string{"MINIMART_LOG_LEVEL"}, nil, false},
		{"max body not a number", map[string]string{"MINIMART_MAX_BODY_BYTES": "1MB"}, []string{"MINIMART_MAX_BODY_BYTES"}, nil, false},
		{"login failures zero", map[string]string{"MINIMART_LOGIN_MAX_FAILURES": "0"}, []string{"MINIMART_LOGIN_MAX_FAILURES"}, nil, false},
		{"login window", map[string]string{"MINIMART_LOGIN_WINDOW": "forever"}, []string{"MINIMART_LOGIN_WINDOW"}, nil, false},
		{"password cost too low", map[string]string{"MINIMART_PASSWORD_COST": "3"}, []string{"MINIMART_PASSWORD_COST"}, nil, false},
		{"password cost too high", map[string]string{"MINIMART_PASSWORD_COST": "17"}, []string{"MINIMART_PASSWORD_COST"}, nil, false},
		{"wechat secret without appid", map[string]string{"MINIMART_WECHAT_SECRET": "wxsecret77"}, []string{"MINIMART_WECHAT_APPID"}, []string{"wxsecret77"}, false},
		{"wechat api base scheme", map[string]string{"MINIMART_WECHAT_API_BASE": "ftp://api.weixin.qq.com"}, []string{"MINIMART_WECHAT_API_BASE"}, nil, false},
		{"bootstrap admin", map[string]string{"MINIMART_BOOTSTRAP_ADMIN": "yes"}, []string{"MINIMART_BOOTSTRAP_ADMIN"}, nil, false},
		{"trusted proxies", map[string]string{"MINIMART_TRUSTED_PROXIES": "not-a-cidr"}, []string{"MINIMART_TRUSTED_PROXIES"}, nil, false},
		{
			"several at once",
			map[string]string{"MINIMART_ACCESS_TOKEN_TTL": "abc", "MINIMART_NODE_ID": "-1", "MINIMART_DB_URL": "postgres://u:topsecret@h/db"},
			[]string{"MINIMART_ACCESS_TOKEN_TTL", "MINIMART_NODE_ID", "MINIMART_DB_URL"},
			[]string{"topsecret"},
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := [][]string{nil, {"serve"}, {"migrate", "status"}}
			if tt.serveOnly {
				runs = runs[:2]
			}
			for _, args := range runs {
				out, errOut, err := runTest(t, args, safeEnv(t, tt.vars))
				var u *usageError
				if !errors.As(err, &u) {
					t.Fatalf("run %q = %v (%T), want a *usageError", args, err, err)
				}
				msg := err.Error()
				for _, w := range tt.want {
					if !strings.Contains(msg, w) {
						t.Errorf("run %q: error %q does not name %s", args, msg, w)
					}
				}
				for _, s := range tt.secrets {
					if strings.Contains(msg+out+errOut, s) {
						t.Errorf("run %q: secret %q repeated in %q / stdout %q / stderr %q", args, s, msg, out, errOut)
					}
				}
				if strings.Contains(out, "API ") {
					t.Errorf("run %q: started serving: %s", args, out)
				}
			}
		})
	}
}

func TestServeUnusableAddr(t *testing.T) {
	for _, addr := range []string{"256.0.0.1:1", "127.0.0.1:99999"} {
		t.Run(addr, func(t *testing.T) {
			out, _, err := runTest(t, []string{"serve", "--addr", addr}, safeEnv(t, nil))
			var u *usageError
			if !errors.As(err, &u) {
				t.Fatalf("serve --addr %s = %v (%T), want a *usageError", addr, err, err)
			}
			if !strings.Contains(err.Error(), "MINIMART_ADDR") || !strings.Contains(err.Error(), addr) {
				t.Errorf("error %q does not name MINIMART_ADDR and %s", err, addr)
			}
			if strings.Contains(out, "API ") {
				t.Errorf("printed a serving banner: %s", out)
			}
		})
	}
}

// An operator address that cannot be bound stops the start with a message naming
// MINIMART_OPS_ADDR, before anything is served.
func TestServeOpsAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	out, _, err := runTest(t, []string{"serve"}, safeEnv(t, map[string]string{"MINIMART_ADDR": "127.0.0.1:0",
		"MINIMART_OPS_ADDR": taken.Addr().String(), "MINIMART_BOOTSTRAP_ADMIN": "0", "MINIMART_DEMO": "0"}))
	var u *usageError
	if !errors.As(err, &u) {
		t.Fatalf("serve with a taken ops address = %v (%T), want a *usageError", err, err)
	}
	if !strings.Contains(err.Error(), "MINIMART_OPS_ADDR") || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Errorf("error %q does not name MINIMART_OPS_ADDR and %s", err, taken.Addr())
	}
	if strings.Contains(out, "API ") {
		t.Errorf("printed a serving banner: %s", out)
	}
}

func TestMigrate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	vars := safeEnv(t, map[string]string{"MINIMART_DATA_DIR": dataDir})

	rows := func(args ...string) map[string]string {
		t.Helper()
		out, _, err := runTest(t, args, vars)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if got := strings.Fields(lines[0]); strings.Join(got, " ") != "MODULE VERSION STATE FILE" {
			t.Fatalf("%q: header %q", args, lines[0])
		}
		states := map[string]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 4 || !strings.HasSuffix(f[3], ".sql") {
				t.Fatalf("%q: row %q is not MODULE VERSION STATE FILE", args, l)
			}
			states[f[0]+"/"+f[1]] = f[2]
		}
		return states
	}

	before := rows("migrate", "status")
	if len(before) == 0 {
		t.Fatal("migrate status lists no migrations")
	}
	for _, module := range []string{"user", "outbox"} {
		if before[module+"/1"] == "" {
			t.Errorf("migrate status does not list %s/1: %v", module, before)
		}
	}
	for m, s := range before {
		if s != "pending" {
			t.Errorf("fresh data dir: %s is %s, want pending", m, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "minimart.db")); err != nil {
		t.Errorf("migrate status did not open the SQLite file in the data dir: %v", err)
	}
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "status"}, {"migrate"}} {
		after := rows(args...)
		if len(after) != len(before) {
			t.Errorf("%q lists %d migrations, status listed %d", args, len(after), len(before))
		}
		for m, s := range after {
			if s != "applied" {
				t.Errorf("after %q: %s is %s, want applied", args, m, s)
			}
		}
	}
}
