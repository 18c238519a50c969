package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium, which .ci/run installs; MINIMART_CHROMIUM points
// elsewhere.
func chromiumPath() string {
	if p := os.Getenv("MINIMART_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// repoRoot is the module root: these tests run in test/e2e.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needNode skips the test when Node.js or the npm packages under dir (node_modules, which
// `make test` installs with npm ci) are missing, and fails it instead when the CI requires every
// suite to run.
func needNode(t *testing.T, dir string, packages ...string) {
	t.Helper()
	var missing string
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p)); err != nil && missing == "" {
			missing = "npm package " + p + " is not installed in " + dir + " (make test runs npm ci)"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s, and MINIMART_REQUIRE_SERVICES=1", missing)
	}
	t.Skipf("SKIPPED: %s", missing)
}

// runNode runs a Node.js command in dir with env added and fails the test with its output when
// it fails; its output is logged either way (the browser tests print their figures there).
func runNode(t *testing.T, dir string, timeout time.Duration, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%v:\n%s", args, out)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
}

// TestBrowser drives the storefront and the merchant console in Debian's chromium (through
// playwright-core) against the real binary: test/browser/*.test.mjs. Screenshots of every
// main screen, and of any failing step, land in test/browser/screenshots (ignored by git).
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	needNode(t, root, "playwright-core")
	if _, err := os.Stat(chromiumPath()); err != nil {
		if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
			t.Fatalf("chromium not found at %s, and MINIMART_REQUIRE_SERVICES=1", chromiumPath())
		}
		t.Skipf("SKIPPED: chromium not found at %s (.ci/run installs Debian's chromium)", chromiumPath())
	}
	// The tests log in many times from one address; per-account failure limits still apply.
	s := startServer(t, "MINIMART_RATELIMITS=0")
	s.waitEventsDrained(t) // the demo catalog is searchable
	user, password := s.bootstrapAdmin(t)
	shots := filepath.Join(root, "test", "browser", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	runNode(t, root, 8*time.Minute, []string{
		"MINIMART_URL=" + s.base,
		"MINIMART_ADMIN_USER=" + user,
		"MINIMART_ADMIN_PASSWORD=" + password,
		"MINIMART_SCREENSHOTS=" + shots,
		"MINIMART_CHROMIUM=" + chromiumPath(),
	}, "node", "--test", "--test-concurrency=1", "test/browser/")
}
