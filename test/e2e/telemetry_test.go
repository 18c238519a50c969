package e2e

import (
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// receivedSpan is one span an OTLP exporter sent, with the service.name of its process.
type receivedSpan struct {
	service, name           string
	traceID, spanID, parent string
	kind                    tracepb.Span_SpanKind
}

// otlpReceiver is a small OTLP/HTTP trace receiver (protobuf, as otlptracehttp sends it).
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []receivedSpan
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Method != http.MethodPost {
			http.NotFound(w, req)
			return
		}
		body := io.Reader(req.Body)
		if req.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		raw, err := io.ReadAll(body)
		var export coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(raw, &export)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.GetResourceSpans() {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					r.spans = append(r.spans, receivedSpan{service: service, name: s.GetName(), kind: s.GetKind(),
						traceID: hex.EncodeToString(s.GetTraceId()), spanID: hex.EncodeToString(s.GetSpanId()),
						parent: hex.EncodeToString(s.GetParentSpanId())})
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// env turns tracing on in a process, exporting here.
func (r *otlpReceiver) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + r.srv.URL, "OTEL_SDK_DISABLED=", "OTEL_TRACES_EXPORTER="}
}

func (r *otlpReceiver) received() []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedSpan(nil), r.spans...)
}

// waitSpans polls until match finds what it needs among the spans received.
func (r *otlpReceiver) waitSpans(t *testing.T, what string, match func([]receivedSpan) bool) []receivedSpan {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans := r.received()
		if match(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, s := range spans {
				fmt.Fprintf(&b, "  %s %s %s trace %s span %s parent %s\n", s.service, s.kind, s.name, s.traceID, s.spanID, s.parent)
			}
			t.Fatalf("timed out waiting for %s; spans received:\n%s", what, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// One trace across two processes of the split shape, each exporting over OTLP: a staff
// write on the product service (catalog, inventory), its staff-status call to the user
// service, and the audit entry it writes as an event, which the user service consumes
// from RabbitMQ — the consumer's span is in the request's trace.
func TestTraceAcrossServices(t *testing.T) {
	t.Parallel()
	amqpURL := servicetest.AMQPURL(t)
	prefix := servicetest.AMQPPrefix(t, amqpURL)
	recv := startOTLPReceiver(t)
	secret := strings.Repeat("s", 40)
	common := append(recv.env(), "MINIMART_AMQP_URL="+amqpURL, "MINIMART_AMQP_PREFIX="+prefix,
		"MINIMART_JWT_SECRET="+secret, "MINIMART_SERVICE_TOKEN="+strings.Repeat("t", 40), "MINIMART_RATELIMITS=0")
	userDB, productDB := sqldbtest.MySQLDatabaseURL(t), sqldbtest.MySQLDatabaseURL(t)

	users := startServer(t, append(common, "MINIMART_MODULES=user", "MINIMART_DB_URL="+userDB, "MINIMART_NODE_ID=1")...)
	product := startServer(t, append(common, "MINIMART_MODULES=catalog,inventory", "MINIMART_DB_URL="+productDB,
		"MINIMART_NODE_ID=2", "MINIMART_PEER_USER="+users.base,
		// Not called by what this test does; the inventory module needs an address for it.
		"MINIMART_PEER_ORDER=http://127.0.0.1:9")...)

	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("Staff-pass-1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runMinimart(t, t.TempDir(), []string{"MINIMART_MODULES=user", "MINIMART_DB_URL=" + userDB, "MINIMART_JWT_SECRET=" + secret,
		"MINIMART_SERVICE_TOKEN=" + strings.Repeat("t", 40), "MINIMART_AMQP_URL=" + amqpURL, "MINIMART_AMQP_PREFIX=" + prefix},
		"admin", "create", "--username", "boss", "--password-file", pwFile, "--role", "admin"); r.code != 0 {
		t.Fatalf("admin create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	staff := staffLogin(t, users.base, credentials{"boss", "Staff-pass-1234"}).Tokens.AccessToken
	call(t, "POST", product.base+"/api/v1/admin/categories", staff, map[string]any{"name": "绿茶"}, http.StatusCreated, nil)

	var request receivedSpan
	recv.waitSpans(t, "the request's trace in both services, down to the user service's audit consumer", func(spans []receivedSpan) bool {
		for _, s := range spans {
			if s.service == "minimart-catalog-inventory" && s.kind == tracepb.Span_SPAN_KIND_SERVER && s.name == "POST /api/v1/admin/categories" {
				request = s
			}
		}
		if request.traceID == "" {
			return false
		}
		var peerServer, consumer bool
		for _, s := range spans {
			if s.traceID != request.traceID || s.service != "minimart-user" {
				continue
			}
			peerServer = peerServer || s.kind == tracepb.Span_SPAN_KIND_SERVER
			consumer = consumer || (s.kind == tracepb.Span_SPAN_KIND_CONSUMER && s.name == "process audit.recorded")
		}
		return peerServer && consumer
	})

	// Each process logs the trace it took part in, with the request's id.
	for _, s := range []*server{users, product} {
		if !strings.Contains(s.stderr.String(), `"trace_id":"`+request.traceID+`"`) {
			t.Errorf("%s logged no line of trace %s\n%s", s.base, request.traceID, s.stderr.String())
		}
	}
}

// A full journey's logs, with every log level on and tracing on, keep every secret out —
// the buyer's password and tokens, the staff's new password, the JWT secret, the sandbox's
// notify signatures — and mask the buyer's mobile number; every line a request or its
// events caused carries the request's id.
func TestLogsKeepSecrets(t *testing.T) {
	t.Parallel()
	recv := startOTLPReceiver(t)
	secret := "jwt-" + strings.Repeat("k", 60)
	dataDir := t.TempDir()
	s := startServer(t, append(recv.env(), "MINIMART_DATA_DIR="+dataDir, "MINIMART_DEMO=0", "MINIMART_LOG_LEVEL=debug",
		"MINIMART_JWT_SECRET="+secret)...)
	name, password := s.bootstrapAdmin(t)
	admin := staffLogin(t, s.base, credentials{name, password}).Tokens.AccessToken

	mobile := fmt.Sprintf("139%08d", rand.IntN(100_000_000))
	buyerPassword := "Buyer-pass-" + hex.EncodeToString([]byte(mobile))[:8]
	var reg session
	call(t, "POST", s.base+"/api/v1/auth/register", "", map[string]string{"mobile": mobile, "password": buyerPassword}, http.StatusCreated, &reg)
	call(t, "POST", s.base+"/api/v1/auth/login", "", map[string]string{"mobile": mobile, "password": buyerPassword + "x"}, http.StatusUnauthorized, nil)
	var lg session
	call(t, "POST", s.base+"/api/v1/auth/login", "", map[string]string{"mobile": mobile, "password": buyerPassword}, http.StatusOK, &lg)
	var rot session
	call(t, "POST", s.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": lg.Tokens.RefreshToken}, http.StatusOK, &rot)
	buyer := rot.Tokens.AccessToken

	var cat, product, addr, order, pay map[string]any
	call(t, "POST", s.base+"/api/v1/admin/categories", admin, map[string]any{"name": "茶叶"}, http.StatusCreated, &cat)
	call(t, "POST", s.base+"/api/v1/admin/products", admin, map[string]any{"category_id": cat["id"], "title": "龙井",
		"specs": []map[string]any{{"name": "规格", "values": []string{"50g"}}},
		"skus":  []map[string]any{{"specs": map[string]string{"规格": "50g"}, "price": 8800}}, "on_shelf": true},
		http.StatusCreated, &product)
	sku := product["skus"].([]any)[0].(map[string]any)["id"].(string)
	call(t, "PUT", s.base+"/api/v1/admin/skus/"+sku+"/stock", admin, map[string]any{"stock": 3}, http.StatusOK, nil)
	staffPassword := "Operator-pass-" + hex.EncodeToString([]byte(mobile))[8:14]
	call(t, "POST", s.base+"/api/v1/admin/staff", admin, map[string]any{"username": "op_" + mobile[3:], "password": staffPassword,
		"role": "operator"}, http.StatusCreated, nil)
	call(t, "POST", s.base+"/api/v1/me/addresses", buyer, map[string]any{"recipient": "王五", "phone": mobile,
		"province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "龙井村 1 号"}, http.StatusCreated, &addr)
	callWith(t, "POST", s.base+"/api/v1/orders", buyer, map[string]string{"Idempotency-Key": "logs-o1"},
		map[string]any{"items": []map[string]any{{"sku_id": sku, "quantity": 1}}, "address_id": addr["id"]}, http.StatusCreated, &order)
	orderID := order["id"].(string)
	callWith(t, "POST", s.base+"/api/v1/orders/"+orderID+"/payments", buyer, map[string]string{"Idempotency-Key": "logs-p1"},
		map[string]any{"method": "sandbox"}, http.StatusCreated, &pay)
	if res := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", pay["pay_url"].(string)); res.code != 0 {
		t.Fatalf("sandbox pay: exit %d %s", res.code, res.stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var o map[string]any
		call(t, "GET", s.base+"/api/v1/orders/"+orderID, buyer, nil, http.StatusOK, &o)
		if o["status"] == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order still %v", o["status"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	call(t, "POST", s.base+"/api/v1/admin/orders/"+orderID+"/ship", admin, map[string]any{"carrier": "SF", "tracking_no": "SF1234567"}, http.StatusOK, nil)

	// The notify's signatures, as the shop received them (the admin's notify log).
	var notes struct {
		Items []struct {
			Headers string `json:"headers"`
		} `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/admin/payments/notifications?out_trade_no="+order["order_no"].(string), admin, nil, http.StatusOK, &notes)
	sig := regexp.MustCompile(`(?m)^Sandbox-Signature: (\S+)$`)
	var signatures []string
	for _, n := range notes.Items {
		for _, m := range sig.FindAllStringSubmatch(n.Headers, -1) {
			signatures = append(signatures, m[1])
		}
	}
	if len(signatures) == 0 {
		t.Fatalf("no signed notify in the notify log: %+v", notes.Items)
	}
	s.stop(t)

	logs := s.stderr.String()
	payURL := pay["pay_url"].(string)
	// The sandbox's signing key, derived from the JWT secret as the shop derives it
	// (internal/app: sandboxKey), in the encodings a careless line would use.
	seed := sha256.Sum256(append([]byte("minimart sandbox notify key\x00"), secret...))
	key := ed25519.NewKeyFromSeed(seed[:])
	secrets := map[string]string{"the buyer's password": buyerPassword, "the staff's new password": staffPassword,
		"the admin's password": password, "the JWT secret": secret, "the full mobile number": mobile,
		"the pay link's signed token": payURL[strings.LastIndex(payURL, "/")+1:],
		"the sandbox key (hex)":       hex.EncodeToString(key), "the sandbox key (base64)": base64.StdEncoding.EncodeToString(key),
		"the sandbox key's seed": hex.EncodeToString(seed[:])}
	for i, tok := range []tokenPair{reg.Tokens, lg.Tokens, rot.Tokens} {
		secrets[fmt.Sprintf("access token %d", i+1)], secrets[fmt.Sprintf("refresh token %d", i+1)] = tok.AccessToken, tok.RefreshToken
	}
	for what, v := range secrets {
		if strings.Contains(logs, v) {
			t.Errorf("the logs hold %s (%q)", what, v)
		}
	}
	for _, v := range signatures {
		if strings.Contains(logs, v) {
			t.Errorf("the logs hold a notify signature (%q)", v)
		}
	}
	requests := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["message"] == "http request" {
			requests++
		}
		// Lines of a request (its access line, what its handlers and its events' consumers
		// logged) carry its id: they are the lines with a trace, a user or an order.
		_, traced := rec["trace_id"]
		_, user := rec["user_id"]
		_, ord := rec["order_no"]
		if (rec["message"] == "http request" || traced || user || ord) && rec["request_id"] == nil {
			t.Errorf("a line caused by a request without its request_id: %s", line)
		}
	}
	if requests < 15 {
		t.Errorf("%d access lines; the journey made more requests than that", requests)
	}
	if !strings.Contains(logs, `"user_id":"`) || !strings.Contains(logs, `"order_no":"`+order["order_no"].(string)+`"`) {
		t.Errorf("no line names the buyer or the order")
	}
}
