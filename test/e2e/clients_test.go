package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment/wechatpay/wechatpaytest"
	"github.com/minimart/minimart/internal/platform/servicetest"
)

// nodeTimeout bounds one npm or node run: a build (three tsc passes) or a test suite.
const nodeTimeout = 5 * time.Minute

// TestTSClient runs the typed TypeScript client's own tests (clients/ts: npm test, which
// builds it, type-checks its compile-time tests and runs node --test) against the real
// binary, and checks that the committed generated types match api/openapi.yaml. The server
// signs access tokens with a key the tests know, so they can present a really expired token
// instead of waiting out the shortest lifetime the server allows (one minute).
//
// Neither client test runs in parallel with the other: both build clients/ts/dist.
func TestTSClient(t *testing.T) {
	dir := clientsDir(t, "ts")
	requireNodeTools(t, dir)

	run := runClientCommand(t, dir, nil, "npm", "run", "check-generated")
	if run.err != nil {
		t.Fatalf("npm run check-generated: %v\n%s", run.err, run.output)
	}

	jwtSecret := randomHex(32)
	s := startServer(t, "MINIMART_DATA_DIR="+t.TempDir(), "MINIMART_JWT_SECRET="+jwtSecret)
	s.waitEventsDrained(t) // the demo catalog is searchable
	run = runClientCommand(t, dir, []string{"MINIMART_URL=" + s.base, "MINIMART_TEST_JWT_SECRET=" + jwtSecret}, "npm", "test")
	checkNodeTests(t, "clients/ts: npm test", run, s)
}

// TestMiniProgram runs the mini-program sample's page tests (clients/miniprogram) against the
// real binary, whose WeChat login and WeChat Pay point at fakes served here: code2session
// answers any code of a test phone with that phone's openid, and the wx.requestPayment
// stand-in asks /pay, which checks the paySign as WeChat would and has the WeChat Pay fake
// pay the trade and deliver its signed notify to the shop.
func TestMiniProgram(t *testing.T) {
	tsDir, mpDir := clientsDir(t, "ts"), clientsDir(t, "miniprogram")
	requireNodeTools(t, tsDir)

	// The pages require the client as the devtools' npm build leaves it: in miniprogram_npm.
	run := runClientCommand(t, tsDir, nil, "npm", "run", "build:miniprogram")
	if run.err != nil {
		t.Fatalf("npm run build:miniprogram: %v\n%s", run.err, run.output)
	}

	wechat := newFakeWeChat(t)
	s := startServer(t, append(wechat.serverEnv(t), "MINIMART_DATA_DIR="+t.TempDir())...)
	s.waitEventsDrained(t) // the demo catalog is searchable
	run = runClientCommand(t, mpDir, []string{
		"MINIMART_URL=" + s.base,
		"MINIMART_TEST_WECHAT_APPID=" + wechat.pay.AppID,
		"MINIMART_TEST_WECHAT_PAY_URL=" + wechat.server.URL + "/pay",
	}, "node", "--test")
	checkNodeTests(t, "clients/miniprogram: node --test", run, s)
	if wechat.paid() == 0 {
		t.Errorf("the tests passed without paying anything through the WeChat Pay fake")
	}
}

// clientsDir is the absolute path of clients/<name> in the repository.
func clientsDir(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "clients", name)
}

// requireNodeTools skips the test, or fails it when CI requires every suite, unless node ≥ 18,
// npm and the client's installed dependencies are there.
func requireNodeTools(t *testing.T, tsDir string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv(servicetest.RequireEnv) == "1" {
			t.Fatalf(format+" (and %s=1)", append(args, servicetest.RequireEnv)...)
		}
		t.Skipf("SKIPPED the client tests: "+format, args...)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing("%s is not installed", tool)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	if n, convErr := strconv.Atoi(major); err != nil || convErr != nil || n < 18 {
		missing("node %q is older than 18 or did not answer (%v)", strings.TrimSpace(string(out)), err)
	}
	for _, pkg := range []string{"typescript", "openapi-typescript"} {
		if _, err := os.Stat(filepath.Join(tsDir, "node_modules", pkg, "package.json")); err != nil {
			missing("clients/ts/node_modules/%s is not installed: run npm ci in clients/ts", pkg)
		}
	}
}

type commandRun struct {
	output string
	err    error
}

// runNode runs an npm or node command in dir with env added to a clean environment.
func runClientCommand(t *testing.T, dir string, env []string, name string, args ...string) commandRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv(env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("not finished within %s", nodeTimeout)
	}
	return commandRun{output: string(out), err: err}
}

var tapSummary = regexp.MustCompile(`(?m)^# (pass|fail|skipped|cancelled|todo) (\d+)$`)

// checkNodeTests wants the node test runner to have passed, and to have run every test:
// a suite that skipped its server tests because a variable did not reach it proves nothing.
func checkNodeTests(t *testing.T, what string, run commandRun, s *server) {
	t.Helper()
	counts := map[string]int{}
	for _, m := range tapSummary.FindAllStringSubmatch(run.output, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if run.err != nil || counts["pass"] == 0 || counts["fail"]+counts["skipped"]+counts["cancelled"]+counts["todo"] != 0 {
		t.Fatalf("%s: %v; summary %v, want passes only\n%s\n%s", what, run.err, counts, run.output, s.output())
	}
	t.Logf("%s: %d tests passed", what, counts["pass"])
}

// fakeWeChat is WeChat as the mini-program's server side meets it: code2session, the WeChat
// Pay API (the wechatpaytest fake, reached through a recording proxy) and, standing in for the
// WeChat app's payment sheet, /pay.
type fakeWeChat struct {
	server *httptest.Server
	pay    *wechatpaytest.Server

	mu sync.Mutex
	// tradeByPrepayID maps the prepay_id of every JSAPI payment WeChat Pay opened to its
	// out_trade_no: the payment sheet knows only the former.
	tradeByPrepayID map[string]string
	paidTrades      int
}

const wechatSecret = "mini-program-secret"

// testCode is a code the wx.login stand-in hands out: <phone>-<n>.
var testCode = regexp.MustCompile(`^([A-Za-z0-9]+)-\d+$`)

func newFakeWeChat(t *testing.T) *fakeWeChat {
	t.Helper()
	w := &fakeWeChat{pay: wechatpaytest.New(t), tradeByPrepayID: map[string]string{}}
	upstream, err := url.Parse(w.pay.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sns/jscode2session", w.code2session)
	mux.HandleFunc("POST /pay", w.requestPayment)
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var prepay struct {
			OutTradeNo string `json:"out_trade_no"`
		}
		_ = json.Unmarshal(body, &prepay) // the fake behind refuses what does not parse
		tee := &teeWriter{ResponseWriter: rw}
		proxy.ServeHTTP(tee, r)
		var answer struct {
			PrepayID string `json:"prepay_id"`
		}
		if tee.status == http.StatusOK && json.Unmarshal(tee.body.Bytes(), &answer) == nil && answer.PrepayID != "" {
			w.mu.Lock()
			w.tradeByPrepayID[answer.PrepayID] = prepay.OutTradeNo
			w.mu.Unlock()
		}
	})
	mux.Handle("/", proxy)
	w.server = httptest.NewServer(mux)
	t.Cleanup(w.server.Close)
	return w
}

// serverEnv configures the binary's WeChat login and WeChat Pay for this fake.
func (w *fakeWeChat) serverEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	merchantKey, err := x509.MarshalPKCS8PrivateKey(w.pay.MerchantKey)
	if err != nil {
		t.Fatal(err)
	}
	platformKey, err := x509.MarshalPKIXPublicKey(&w.pay.PlatformKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, blockType string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return []string{
		"MINIMART_WECHAT_APPID=" + w.pay.AppID,
		"MINIMART_WECHAT_SECRET=" + wechatSecret,
		"MINIMART_WECHAT_API_BASE=" + w.server.URL,
		"MINIMART_WECHATPAY_MCH_ID=" + w.pay.MchID,
		"MINIMART_WECHATPAY_MCH_SERIAL=" + w.pay.MchSerial,
		"MINIMART_WECHATPAY_PRIVATE_KEY_FILE=" + write("apiclient_key.pem", "PRIVATE KEY", merchantKey),
		"MINIMART_WECHATPAY_APIV3_KEY=" + w.pay.APIv3Key,
		"MINIMART_WECHATPAY_PUBLIC_KEY_ID=" + w.pay.PlatformKeyID,
		"MINIMART_WECHATPAY_PUBLIC_KEY_FILE=" + write("pub_key.pem", "PUBLIC KEY", platformKey),
		"MINIMART_WECHATPAY_API_BASE=" + w.server.URL,
	}
}

// code2session answers as WeChat does, with one openid per test phone.
func (w *fakeWeChat) code2session(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rw.Header().Set("Content-Type", "text/plain") // as WeChat sends it
	m := testCode.FindStringSubmatch(q.Get("js_code"))
	switch {
	case q.Get("appid") != w.pay.AppID || q.Get("secret") != wechatSecret || q.Get("grant_type") != "authorization_code":
		io.WriteString(rw, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
	case m == nil:
		io.WriteString(rw, `{"errcode":40029,"errmsg":"invalid code"}`)
	default:
		fmt.Fprintf(rw, `{"openid":"o-%s","session_key":"k-%s"}`, m[1], m[1])
	}
}

// requestPayment is the buyer confirming wx.requestPayment: WeChat checks that the
// parameters were signed by the merchant for this mini-program, and the payment is made.
func (w *fakeWeChat) requestPayment(rw http.ResponseWriter, r *http.Request) {
	var p struct {
		AppID     string `json:"appId"`
		TimeStamp string `json:"timeStamp"`
		NonceStr  string `json:"nonceStr"`
		Package   string `json:"package"`
		SignType  string `json:"signType"`
		PaySign   string `json:"paySign"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(rw, "bad parameters: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	outTradeNo, ok := w.tradeByPrepayID[strings.TrimPrefix(p.Package, "prepay_id=")]
	w.mu.Unlock()
	signature, err := base64.StdEncoding.DecodeString(p.PaySign)
	digest := sha256.Sum256([]byte(p.AppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"))
	switch {
	case p.AppID != w.pay.AppID || p.SignType != "RSA":
		http.Error(rw, fmt.Sprintf("appId %q signType %q: not this mini-program's RSA payment", p.AppID, p.SignType), http.StatusBadRequest)
		return
	case !ok:
		http.Error(rw, "no JSAPI payment has package "+p.Package, http.StatusBadRequest)
		return
	case err != nil || rsa.VerifyPKCS1v15(&w.pay.MerchantKey.PublicKey, crypto.SHA256, digest[:], signature) != nil:
		http.Error(rw, "paySign does not verify with the merchant key", http.StatusBadRequest)
		return
	}
	notify, err := w.pay.Pay(outTradeNo)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusConflict)
		return
	}
	status, body, err := w.pay.Deliver(r.Context(), notify)
	if err != nil || status != http.StatusOK && status != http.StatusNoContent {
		http.Error(rw, fmt.Sprintf("the shop refused the notify: %d %s %v", status, body, err), http.StatusBadGateway)
		return
	}
	w.mu.Lock()
	w.paidTrades++
	w.mu.Unlock()
	io.WriteString(rw, "paid")
}

func (w *fakeWeChat) paid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.paidTrades
}

// teeWriter passes an answer through and keeps a copy.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
