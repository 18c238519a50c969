package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/minimart/minimart/api"
)

// The front-ends show a Chinese message per error code; a code the API documents without one
// would reach buyers as the server's English developer text.
func TestEveryErrorCodeHasAMessage(t *testing.T) {
	src, err := os.ReadFile("shared/errors.js")
	if err != nil {
		t.Fatal(err)
	}
	explained := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z0-9_]*): '`).FindAllSubmatch(src, -1) {
		explained[string(m[1])] = true
	}
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := api.ErrorCodes(doc)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, c := range codes {
		if !explained[c.Code] {
			missing = append(missing, c.Code)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("web/shared/errors.js has no message for %v", missing)
	}
}

// The vendored library is the published file, unchanged (web/vendor/README.md).
func TestVendoredLibraryIsThePublishedFile(t *testing.T) {
	b, err := os.ReadFile("vendor/preact-htm.js")
	if err != nil {
		t.Fatal(err)
	}
	const want = "72284e8e9079c87817145df1110f74e8a2aa040b2fc384922e18dfcb46fc1fd7" // htm 3.1.1 preact/standalone.module.js
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("vendor/preact-htm.js sha256 %s, want %s", got, want)
	}
}

// The shared modules' own tests (money on digits, phone patterns) run in Node.
func TestSharedModulesInNode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
			t.Fatal("node is not installed, and MINIMART_REQUIRE_SERVICES=1")
		}
		t.Skip("SKIPPED: node is not installed")
	}
	out, err := exec.Command("node", "--test", "../test/web/").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/web: %v\n%s", err, out)
	}
}
