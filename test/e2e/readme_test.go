package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	// walkthroughHeading starts the part of README.md that a reader pastes into one shell; it
	// ends at the next level-2 heading ("## Commands").
	walkthroughHeading = "## Walkthrough with curl"
	// walkthroughTimeout bounds the whole walkthrough: its polling loops (order paid, refund
	// settled, flash-sale attempt ordered) wait without a bound of their own.
	walkthroughTimeout = 2 * time.Minute
	// readmeVarPrefix marks the lines the test appends to print the walkthrough's ids.
	readmeVarPrefix = "readme_test "
)

// readmeIDs are the variables the walkthrough must set; the test checks what they name.
var readmeIDs = []string{"ORDER_ID", "SECOND_ORDER_ID", "SALE_ID"}

// walkthroughScript is the shell code of README.md's walkthrough: every ```sh block from
// walkthroughHeading to the next level-2 heading, in order. Only ```sh fences run: a block
// meant for another setup in those sections is fenced ```console (or plain ```), and is shown,
// not run.
func walkthroughScript(readme string) (script string, blocks int) {
	var b strings.Builder
	inSection, inFence := false, false
	fence := "" // the info string of the open fence: "sh", "console", "" for a plain one
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case inFence && strings.TrimSpace(line) == "```":
			inFence = false
		case inFence:
			if fence == "sh" && inSection {
				b.WriteString(line + "\n")
			}
		case strings.HasPrefix(line, "```"):
			inFence, fence = true, strings.TrimSpace(strings.TrimPrefix(line, "```"))
			if fence == "sh" && inSection {
				blocks++
			}
		case line == walkthroughHeading:
			inSection = true
		case inSection && strings.HasPrefix(line, "## "):
			return b.String(), blocks
		}
	}
	return b.String(), blocks
}

// TestReadmeWalkthroughBlocks pins which blocks run: ```sh ones inside the walkthrough's
// sections only, whatever other fences and headings-like lines surround them.
func TestReadmeWalkthroughBlocks(t *testing.T) {
	readme := strings.Join([]string{
		"## Two commands", "```sh", "make test", "```",
		walkthroughHeading, "```sh", "echo one", "```",
		"### A subsection", "```console", "## not a heading inside a fence", "deploy/local/split.sh 8080", "```", "```", "output", "```",
		"```sh", "echo two", "```",
		"## Commands", "```sh", "echo three", "```",
	}, "\n")
	script, blocks := walkthroughScript(readme)
	if want := "echo one\necho two\n"; script != want || blocks != 2 {
		t.Errorf("walkthroughScript = %q in %d blocks, want %q in 2", script, blocks, want)
	}
}

// curlCall finds a curl invocation in a line of shell code.
var curlCall = regexp.MustCompile(`(^|[\s(|;&])curl\s`)

// TestReadme runs README.md's curl walkthrough as a reader pasting it into one bash shell
// would, against the real binary on a fresh data dir: every block in order, in one
// `bash -euo pipefail`, with two substitutions only — localhost:8080 becomes the test
// server's address, `go run ./cmd/minimart` the built binary, run in the server's directory
// with its environment, so the commands find the same data. Every curl there fails on a
// non-2xx answer (--fail-with-body), so any refused step fails the test; then the test checks
// through its own admin session that the order was paid and partly refunded, the second order
// cancelled and one unit of the flash sale taken.
func TestReadme(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%s is not installed, and MINIMART_REQUIRE_SERVICES=1", tool)
			}
			t.Skipf("SKIPPED: %s is not installed; the README walkthrough needs it", tool)
		}
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, blocks := walkthroughScript(string(readme))
	if blocks == 0 {
		t.Fatalf("README.md has no ```sh block after %q", walkthroughHeading)
	}
	for _, line := range strings.Split(script, "\n") {
		code := strings.TrimSpace(line)
		if !strings.HasPrefix(code, "#") && curlCall.MatchString(code) && !strings.Contains(code, "--fail-with-body") {
			t.Errorf("README walkthrough calls curl without --fail-with-body, so a refused request would go unnoticed: %s", code)
		}
	}

	s := startServer(t)
	s.waitEventsDrained(t) // the demo catalog is searchable
	script = strings.ReplaceAll(script, "localhost:8080", s.addr)
	script = strings.ReplaceAll(script, "go run ./cmd/minimart", "'"+binary+"'")
	for _, line := range strings.Split(script, "\n") {
		// Any other spelling of the default address would reach whatever shop runs there.
		if code := strings.TrimSpace(line); !strings.HasPrefix(code, "#") && strings.Contains(code, ":8080") {
			t.Fatalf("README walkthrough reaches :8080 other than as localhost:8080: %s", code)
		}
	}
	script += "printf '" + readmeVarPrefix + "%s=%s\\n'"
	for _, name := range readmeIDs {
		script += " " + name + ` "$` + name + `"`
	}
	script += "\n"
	file := filepath.Join(t.TempDir(), "walkthrough.sh")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), walkthroughTimeout)
	defer cancel()
	// -x traces each command to the output, so a failure shows the step that failed.
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-x", file)
	cmd.Dir, cmd.Env = s.cmd.Dir, s.cmd.Env
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		t.Fatalf("README walkthrough failed (%v); its output and trace:\n%s\n%s", err, out.String(), s.output())
	}

	ids := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, readmeVarPrefix); ok {
			name, value, _ := strings.Cut(rest, "=")
			ids[name] = value
		}
	}
	for _, name := range readmeIDs {
		if ids[name] == "" {
			t.Fatalf("README walkthrough left %s empty; its output:\n%s", name, out.String())
		}
	}

	adminName, adminPassword := s.bootstrapAdmin(t)
	admin := staffLogin(t, s.base, credentials{adminName, adminPassword}).Tokens.AccessToken
	var order struct {
		Status  string `json:"status"`
		Payable int64  `json:"payable"`
	}
	call(t, "GET", s.base+"/api/v1/admin/orders/"+ids["ORDER_ID"], admin, nil, http.StatusOK, &order)
	if order.Status != "paid" {
		t.Errorf("the walkthrough's order is %q, want paid (a partial refund leaves it paid)", order.Status)
	}
	type money struct {
		Amount   int64  `json:"amount"`
		Refunded int64  `json:"refunded"`
		Status   string `json:"status"`
	}
	var payments struct {
		Payments []money `json:"payments"`
		Refunds  []money `json:"refunds"`
	}
	call(t, "GET", s.base+"/api/v1/admin/orders/"+ids["ORDER_ID"]+"/payments", admin, nil, http.StatusOK, &payments)
	if len(payments.Payments) != 1 || payments.Payments[0] != (money{Amount: order.Payable, Refunded: 1000, Status: "succeeded"}) {
		t.Errorf("payments of the walkthrough's order: %+v, want one succeeded of %d fen with 1000 refunded", payments.Payments, order.Payable)
	}
	if len(payments.Refunds) != 1 || payments.Refunds[0] != (money{Amount: 1000, Status: "succeeded"}) {
		t.Errorf("refunds of the walkthrough's order: %+v, want one succeeded of 1000 fen", payments.Refunds)
	}

	call(t, "GET", s.base+"/api/v1/admin/orders/"+ids["SECOND_ORDER_ID"], admin, nil, http.StatusOK, &order)
	if order.Status != "cancelled" {
		t.Errorf("the walkthrough's second order is %q, want cancelled", order.Status)
	}

	var sale struct {
		Quantity  int `json:"quantity"`
		Remaining int `json:"remaining"`
	}
	call(t, "GET", s.base+"/api/v1/admin/flash-sales/"+ids["SALE_ID"], admin, nil, http.StatusOK, &sale)
	if sale.Remaining != sale.Quantity-1 {
		t.Errorf("the walkthrough's flash sale has %d of %d left, want one taken by its attempt", sale.Remaining, sale.Quantity)
	}
}
