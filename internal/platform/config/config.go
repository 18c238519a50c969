// Package config reads Minimart's settings from MINIMART_* environment variables (and the
// flags a person expects, which win over them). Every variable is declared once in Vars,
// which also feeds `minimart help` and is checked against the README by a test.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/peer"
	"github.com/minimart/minimart/internal/platform/ratelimit"
)

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Secret  bool
	Help    string
}

// Vars lists every variable Minimart reads.
var Vars = []Var{
	{Name: "MINIMART_ADDR", Default: ":8080", Help: "listen address (flag --addr)"},
	{Name: "MINIMART_OPS_ADDR", Default: "127.0.0.1:9090", Help: "operator listener: /metrics (Prometheus scrapes it), /debug/pprof and /readyz with each check's details; keep it off the public network; off = none"},
	{Name: "MINIMART_TLS_CERT_FILE", Default: "", Help: "PEM certificate (chain) to serve HTTPS with HTTP/2 and HSTS directly, without a proxy; set with MINIMART_TLS_KEY_FILE; empty = plain HTTP"},
	{Name: "MINIMART_TLS_KEY_FILE", Default: "", Help: "PEM private key of MINIMART_TLS_CERT_FILE"},
	{Name: "MINIMART_DATA_DIR", Default: "./data", Help: "data directory: SQLite file, signing key, uploads (flag --data-dir)"},
	{Name: "MINIMART_DB_URL", Default: "", Secret: true, Help: "mysql://user:pass@host:3306/db for MySQL/MariaDB; empty = SQLite in the data dir"},
	{Name: "MINIMART_REDIS_URL", Default: "", Secret: true, Help: "redis://[:pass@]host:6379/0; empty = in-process cache"},
	{Name: "MINIMART_CACHE_PREFIX", Default: "minimart:", Help: "prefix of every Redis key, so several shops (or test runs) can share one Redis"},
	{Name: "MINIMART_AMQP_URL", Default: "", Secret: true, Help: "amqp://user:pass@host:5672/; empty = in-process event bus"},
	{Name: "MINIMART_AMQP_PREFIX", Default: "minimart", Help: "names on RabbitMQ: exchange <prefix>.events, queues <prefix>.<consumer>; lets several shops (or test runs) share a broker"},
	{Name: "MINIMART_INVENTORY_QUEUE", Default: "inventory_update", Help: "RabbitMQ queue of external stock updates (the seed's inventory_update); consumed when MINIMART_AMQP_URL is set"},
	{Name: "MINIMART_JWT_SECRET", Default: "", Secret: true, Help: "access-token signing key, ≥ 32 bytes; required with MINIMART_DB_URL; embedded: generated once into the data dir"},
	{Name: "MINIMART_ACCESS_TOKEN_TTL", Default: "15m", Help: "access token lifetime"},
	{Name: "MINIMART_REFRESH_TOKEN_TTL", Default: "720h", Help: "refresh token lifetime"},
	{Name: "MINIMART_NODE_ID", Default: "0", Help: "0–1023, unique per running instance (ID generator)"},
	{Name: "MINIMART_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
	{Name: "MINIMART_MAX_BODY_BYTES", Default: "1048576", Help: "largest JSON request body accepted (413 above)"},
	{Name: "MINIMART_MAX_UPLOAD_BYTES", Default: "5242880", Help: "largest image upload accepted (413 above)"},
	{Name: "MINIMART_DEMO", Default: "1", Help: "1: load the demo catalog on the embedded first start; 0: start empty (production shapes never load it; see minimart demo load)"},
	{Name: "MINIMART_TRUSTED_PROXIES", Default: "", Help: "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed"},
	{Name: "MINIMART_CORS_ORIGINS", Default: "", Help: "comma-separated origins (scheme://host[:port], no path) whose pages may call the API with credentials; empty = only the shop's own origin (the built-in storefront and console need nothing here)"},
	{Name: "MINIMART_LOGIN_MAX_FAILURES", Default: "5", Help: "failed logins per account before 429, per window"},
	{Name: "MINIMART_LOGIN_MAX_FAILURES_PER_IP", Default: "20", Help: "failed logins per client IP before 429, per window"},
	{Name: "MINIMART_LOGIN_WINDOW", Default: "15m", Help: "window for the failed-login limits"},
	{Name: "MINIMART_RATELIMITS", Default: "1", Help: "0 lifts every MINIMART_RATELIMIT_* limit (load tests); the start then logs a warning"},
	{Name: "MINIMART_RATELIMIT_REGISTER", Default: "60/10m", Help: "registrations per client IP, as N/duration; 0 = no limit (every MINIMART_RATELIMIT_* alike)"},
	{Name: "MINIMART_RATELIMIT_LOGIN", Default: "60/1m", Help: "login requests (password, WeChat and staff, failed or not) per client IP"},
	{Name: "MINIMART_RATELIMIT_REFRESH", Default: "300/1m", Help: "token refreshes per client IP"},
	{Name: "MINIMART_RATELIMIT_ORDER", Default: "60/1m", Help: "order creations per buyer"},
	{Name: "MINIMART_RATELIMIT_ORDER_IP", Default: "1200/1m", Help: "order creations per client IP (buyers behind one carrier NAT share it)"},
	{Name: "MINIMART_RATELIMIT_PAYMENT", Default: "60/1m", Help: "payment starts per buyer"},
	{Name: "MINIMART_RATELIMIT_PAYMENT_IP", Default: "1200/1m", Help: "payment starts per client IP"},
	{Name: "MINIMART_RATELIMIT_SEARCH", Default: "600/1m", Help: "searches per client IP"},
	{Name: "MINIMART_PASSWORD_COST", Default: "11", Help: "bcrypt cost for password hashes (4–16)"},
	{Name: "MINIMART_ORDER_PAY_TIMEOUT", Default: "30m", Help: "unpaid orders are cancelled and their stock released after this"},
	{Name: "MINIMART_ORDER_AUTO_COMPLETE", Default: "168h", Help: "shipped orders complete by themselves after this (168h = 7 days)"},
	{Name: "MINIMART_SHIPPING_FEE", Default: "1000", Help: "shipping fee in fen per order"},
	{Name: "MINIMART_FREE_SHIPPING_OVER", Default: "9900", Help: "orders whose items total reaches this many fen ship free; 0: never"},
	{Name: "MINIMART_SCHEDULE_INTERVAL", Default: "5s", Help: "how often timeouts (unpaid orders, expired reservations, auto-complete), and whether the search index must be rebuilt, are checked"},
	{Name: "MINIMART_WECHAT_APPID", Default: "", Help: "mini-program appid; with the secret enables POST /api/v1/auth/wechat"},
	{Name: "MINIMART_WECHAT_SECRET", Default: "", Secret: true, Help: "mini-program appsecret"},
	{Name: "MINIMART_WECHAT_API_BASE", Default: "https://api.weixin.qq.com", Help: "base URL of the WeChat API (code2session)"},
	{Name: "MINIMART_PUBLIC_URL", Default: "", Help: "the shop's address as payment providers and browsers reach it (notify URLs, sandbox cashier); empty = http://127.0.0.1:<port>"},
	{Name: "MINIMART_PAYMENT_SANDBOX", Default: "auto", Help: "auto: offer the built-in sandbox provider only when no real provider is configured; 1: always; 0: never"},
	{Name: "MINIMART_PAYMENT_QUERY_AFTER", Default: "2m", Help: "a payment pending this long is queried at its provider (in case its notify was lost); later queries back off to 10m"},
	{Name: "MINIMART_PAYMENT_RETURN_URL", Default: "", Help: "where Alipay's web cashier sends the browser after paying; empty = none"},
	{Name: "MINIMART_WECHATPAY_MCH_ID", Default: "", Help: "WeChat Pay merchant id; with the other MINIMART_WECHATPAY_* variables enables wechat_jsapi and wechat_native"},
	{Name: "MINIMART_WECHATPAY_APPID", Default: "", Help: "appid payments are made under; empty = MINIMART_WECHAT_APPID (the mini-program)"},
	{Name: "MINIMART_WECHATPAY_MCH_SERIAL", Default: "", Help: "serial number of the merchant API certificate"},
	{Name: "MINIMART_WECHATPAY_PRIVATE_KEY_FILE", Default: "", Help: "PEM file of the merchant API private key (apiclient_key.pem)"},
	{Name: "MINIMART_WECHATPAY_APIV3_KEY", Default: "", Secret: true, Help: "the 32-byte APIv3 key that decrypts notifies"},
	{Name: "MINIMART_WECHATPAY_PUBLIC_KEY_ID", Default: "", Help: "WeChat Pay public key id (PUB_KEY_ID_…) or platform certificate serial"},
	{Name: "MINIMART_WECHATPAY_PUBLIC_KEY_FILE", Default: "", Help: "PEM file of the WeChat Pay public key or platform certificate that signs notifies and answers"},
	{Name: "MINIMART_WECHATPAY_API_BASE", Default: "", Help: "WeChat Pay API base; empty = https://api.mch.weixin.qq.com (tests point it at a fake)"},
	{Name: "MINIMART_ALIPAY_APPID", Default: "", Help: "Alipay app id; with the key files enables alipay_wap, alipay_page and alipay_qr"},
	{Name: "MINIMART_ALIPAY_PRIVATE_KEY_FILE", Default: "", Help: "file of the app private key (PEM or the bare base64 Alipay's tool writes)"},
	{Name: "MINIMART_ALIPAY_PUBLIC_KEY_FILE", Default: "", Help: "file of the Alipay public key that signs notifies and answers"},
	{Name: "MINIMART_ALIPAY_GATEWAY", Default: "", Help: "Alipay gateway; empty = https://openapi.alipay.com/gateway.do (tests point it at a fake)"},
	{Name: "MINIMART_MODULES", Default: "all", Help: "modules this process serves, comma-separated from user,catalog,inventory,cart,order,payment,promotion (flag --modules); the seed's services: user; catalog,inventory (product); order,cart,promotion (order); payment"},
	{Name: "MINIMART_SERVICE_TOKEN", Default: "", Secret: true, Help: "shared secret (≥ 32 bytes) services present on /internal/ calls; required unless every module runs in this process"},
	{Name: "MINIMART_PEER_USER", Default: "", Help: "where the user module runs when it is not in this process: base URLs (comma-separated) or dns://name:port; every service without it needs it (staff tokens are checked there)"},
	{Name: "MINIMART_PEER_CATALOG", Default: "", Help: "where the catalog module runs when it is not in this process (as MINIMART_PEER_USER)"},
	{Name: "MINIMART_PEER_INVENTORY", Default: "", Help: "where the inventory module runs when it is not in this process (as MINIMART_PEER_USER)"},
	{Name: "MINIMART_PEER_CART", Default: "", Help: "where the cart module runs when it is not in this process (as MINIMART_PEER_USER)"},
	{Name: "MINIMART_PEER_ORDER", Default: "", Help: "where the order module runs when it is not in this process (as MINIMART_PEER_USER)"},
	{Name: "MINIMART_PEER_PAYMENT", Default: "", Help: "where the payment module runs when it is not in this process (as MINIMART_PEER_USER); no module calls payment synchronously today"},
	{Name: "MINIMART_PEER_PROMOTION", Default: "", Help: "where the promotion module runs when it is not in this process (as MINIMART_PEER_USER); no module calls promotion synchronously today"},
	{Name: "MINIMART_NODE_ID_OFFSET", Default: "0", Help: "added to MINIMART_NODE_ID (the sum must be ≤ 1023): lets a Kubernetes StatefulSet take the pod index as MINIMART_NODE_ID and give each service its own range"},
	{Name: "MINIMART_ORPHAN_HOLD_AFTER", Default: "1m", Help: "stock held for an order that was never recorded (a crash or failure between holding and writing it) is released once the hold is this old; an order must be written within a third of it"},
	{Name: "MINIMART_BOOTSTRAP_ADMIN", Default: "auto", Help: "auto: create an admin with a printed random password on the embedded first start; 0: never"},
}

// Config is the validated configuration of one process.
type Config struct {
	Addr string
	// OpsAddr is the operator listener's address; empty when MINIMART_OPS_ADDR is off.
	OpsAddr            string
	DataDir            string
	DBURL              string
	RedisURL           string
	CachePrefix        string
	AMQPURL            string
	AMQPPrefix         string
	InventoryQueue     string
	JWTSecret          string
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	NodeID             int64
	LogLevel           string
	MaxBodyBytes       int64
	MaxUploadBytes     int64
	Demo               bool
	TrustedProxies     string
	LoginMaxFailures   int64
	LoginMaxPerIP      int64
	LoginWindow        time.Duration
	PasswordCost       int
	OrderPayTimeout    time.Duration
	OrderAutoComplete  time.Duration
	ShippingFee        int64
	FreeShippingOver   int64
	ScheduleInterval   time.Duration
	WeChatAppID        string
	WeChatSecret       string
	WeChatAPIBase      string
	BootstrapAdminAuto bool
	PublicURL          string
	PaymentSandbox     string
	PaymentQueryAfter  time.Duration
	PaymentReturnURL   string
	WeChatPay          WeChatPay
	Alipay             Alipay
	// Modules are the modules this process serves, in Modules order.
	Modules []string
	// Peers maps each module not served here that a served one needs to its address
	// (MINIMART_PEER_<MODULE>).
	Peers           map[string]string
	ServiceToken    string
	OrphanHoldAfter time.Duration
	// TLSCertFile and TLSKeyFile are both set, or both empty (plain HTTP).
	TLSCertFile, TLSKeyFile string
	// RateLimits are all off when RateLimitsOff (MINIMART_RATELIMITS=0).
	RateLimits    RateLimits
	RateLimitsOff bool
	// CORSOrigins are the origins other than the shop's own whose pages may call the API,
	// as browsers send them in Origin (lower case, no default port).
	CORSOrigins []string
}

// RateLimits are the MINIMART_RATELIMIT_* request limits: per client IP for what anyone may
// call, and per buyer as well as per IP for what a buyer calls.
type RateLimits struct {
	Register, Login, Refresh, Search   ratelimit.Limit
	Order, OrderIP, Payment, PaymentIP ratelimit.Limit
}

// TLS reports whether the server speaks HTTPS itself.
func (c Config) TLS() bool { return c.TLSCertFile != "" }

// Module names, in the order their schemas are applied.
const (
	ModuleUser      = "user"
	ModuleCatalog   = "catalog"
	ModuleInventory = "inventory"
	ModuleCart      = "cart"
	ModuleOrder     = "order"
	ModulePayment   = "payment"
	ModulePromotion = "promotion"
)

// Modules lists every module.
var Modules = []string{ModuleUser, ModuleCatalog, ModuleInventory, ModuleCart, ModuleOrder, ModulePayment, ModulePromotion}

// ModuleNeeds says which other modules each module calls synchronously (through its ports);
// a module that is not served here must then be reachable at its MINIMART_PEER_ variable.
// Every module needs user: each process serves staff endpoints (the dead-letter list at
// least) and checks every staff token against its account there.
var ModuleNeeds = map[string][]string{
	ModuleUser:      nil,
	ModuleCatalog:   {ModuleInventory, ModuleUser},
	ModuleInventory: {ModuleCatalog, ModuleOrder, ModuleUser},
	ModuleCart:      {ModuleCatalog, ModuleInventory, ModuleUser},
	ModuleOrder:     {ModuleCatalog, ModuleInventory, ModuleUser, ModuleCart},
	ModulePayment:   {ModuleOrder, ModuleUser},
	// Promotion makes the orders of flash-sale attempts, holds sale stock, describes SKUs and
	// checks buyers' addresses. No module calls promotion, so it has no HTTP client
	// (promotionclient) and no module lists it here.
	ModulePromotion: {ModuleOrder, ModuleInventory, ModuleCatalog, ModuleUser},
}

// Serves reports whether this process serves module.
func (c Config) Serves(module string) bool { return slices.Contains(c.Modules, module) }

// Split reports whether some module runs elsewhere.
func (c Config) Split() bool { return len(c.Modules) < len(Modules) }

// PeerVar is the variable that locates module when it runs elsewhere.
func PeerVar(module string) string { return "MINIMART_PEER_" + strings.ToUpper(module) }

// WeChatPay is the WeChat Pay merchant configuration; MchID "" means not configured.
type WeChatPay struct {
	MchID, AppID, MchSerial, PrivateKeyFile, APIv3Key, PublicKeyID, PublicKeyFile, APIBase string
}

// Alipay is the Alipay app configuration; AppID "" means not configured.
type Alipay struct {
	AppID, PrivateKeyFile, PublicKeyFile, Gateway string
}

// Embedded reports whether this is the embedded shape (SQLite, no external services).
func (c Config) Embedded() bool { return c.DBURL == "" || strings.HasPrefix(c.DBURL, "sqlite:") }

// Error names the variable that is wrong and what is wrong with it; it never repeats a
// secret value.
type Error struct {
	Var     string
	Problem string
}

func (e *Error) Error() string { return e.Var + ": " + e.Problem }

// Overrides are values from command-line flags; a non-empty one wins over the environment.
type Overrides struct {
	Addr    string
	DataDir string
	Modules string
}

// Load reads and validates the configuration. All problems are reported together.
func Load(getenv func(string) string, o Overrides) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		Addr:              l.str("MINIMART_ADDR"),
		OpsAddr:           l.str("MINIMART_OPS_ADDR"),
		DataDir:           l.str("MINIMART_DATA_DIR"),
		DBURL:             l.url("MINIMART_DB_URL", "mysql", "sqlite"),
		RedisURL:          l.url("MINIMART_REDIS_URL", "redis", "rediss"),
		CachePrefix:       l.str("MINIMART_CACHE_PREFIX"),
		AMQPURL:           l.url("MINIMART_AMQP_URL", "amqp", "amqps"),
		AMQPPrefix:        l.str("MINIMART_AMQP_PREFIX"),
		InventoryQueue:    l.str("MINIMART_INVENTORY_QUEUE"),
		JWTSecret:         l.str("MINIMART_JWT_SECRET"),
		AccessTokenTTL:    l.duration("MINIMART_ACCESS_TOKEN_TTL", time.Minute, 24*time.Hour),
		RefreshTokenTTL:   l.duration("MINIMART_REFRESH_TOKEN_TTL", time.Hour, 365*24*time.Hour),
		NodeID:            l.integer("MINIMART_NODE_ID", 0, 1023),
		LogLevel:          l.oneOf("MINIMART_LOG_LEVEL", "debug", "info", "warn", "error"),
		MaxBodyBytes:      l.integer("MINIMART_MAX_BODY_BYTES", 1024, 64<<20),
		MaxUploadBytes:    l.integer("MINIMART_MAX_UPLOAD_BYTES", 1024, 64<<20),
		Demo:              l.oneOf("MINIMART_DEMO", "0", "1") == "1",
		TrustedProxies:    l.str("MINIMART_TRUSTED_PROXIES"),
		LoginMaxFailures:  l.integer("MINIMART_LOGIN_MAX_FAILURES", 1, 1000),
		LoginMaxPerIP:     l.integer("MINIMART_LOGIN_MAX_FAILURES_PER_IP", 1, 100000),
		LoginWindow:       l.duration("MINIMART_LOGIN_WINDOW", time.Second, 24*time.Hour),
		PasswordCost:      int(l.integer("MINIMART_PASSWORD_COST", 4, 16)),
		OrderPayTimeout:   l.duration("MINIMART_ORDER_PAY_TIMEOUT", time.Second, 7*24*time.Hour),
		OrderAutoComplete: l.duration("MINIMART_ORDER_AUTO_COMPLETE", time.Second, 365*24*time.Hour),
		ShippingFee:       l.integer("MINIMART_SHIPPING_FEE", 0, 1_000_000),
		FreeShippingOver:  l.integer("MINIMART_FREE_SHIPPING_OVER", 0, 1_000_000_000),
		ScheduleInterval:  l.duration("MINIMART_SCHEDULE_INTERVAL", 10*time.Millisecond, time.Hour),
		WeChatAppID:       l.str("MINIMART_WECHAT_APPID"),
		WeChatSecret:      l.str("MINIMART_WECHAT_SECRET"),
		WeChatAPIBase:     l.url("MINIMART_WECHAT_API_BASE", "http", "https"),
		PublicURL:         l.url("MINIMART_PUBLIC_URL", "http", "https"),
		PaymentSandbox:    l.oneOf("MINIMART_PAYMENT_SANDBOX", "auto", "0", "1"),
		PaymentQueryAfter: l.duration("MINIMART_PAYMENT_QUERY_AFTER", 10*time.Millisecond, 24*time.Hour),
		PaymentReturnURL:  l.url("MINIMART_PAYMENT_RETURN_URL", "http", "https"),
		WeChatPay: WeChatPay{
			MchID: l.str("MINIMART_WECHATPAY_MCH_ID"), AppID: l.str("MINIMART_WECHATPAY_APPID"),
			MchSerial: l.str("MINIMART_WECHATPAY_MCH_SERIAL"), PrivateKeyFile: l.str("MINIMART_WECHATPAY_PRIVATE_KEY_FILE"),
			APIv3Key: l.str("MINIMART_WECHATPAY_APIV3_KEY"), PublicKeyID: l.str("MINIMART_WECHATPAY_PUBLIC_KEY_ID"),
			PublicKeyFile: l.str("MINIMART_WECHATPAY_PUBLIC_KEY_FILE"), APIBase: l.url("MINIMART_WECHATPAY_API_BASE", "http", "https"),
		},
		Alipay: Alipay{
			AppID: l.str("MINIMART_ALIPAY_APPID"), PrivateKeyFile: l.str("MINIMART_ALIPAY_PRIVATE_KEY_FILE"),
			PublicKeyFile: l.str("MINIMART_ALIPAY_PUBLIC_KEY_FILE"), Gateway: l.url("MINIMART_ALIPAY_GATEWAY", "http", "https"),
		},
	}
	if c.WeChatPay.AppID == "" {
		c.WeChatPay.AppID = c.WeChatAppID
	}
	c.NodeID += l.integer("MINIMART_NODE_ID_OFFSET", 0, 1023)
	if c.NodeID > 1023 {
		l.fail("MINIMART_NODE_ID_OFFSET", fmt.Sprintf("MINIMART_NODE_ID plus MINIMART_NODE_ID_OFFSET is %d; it must be at most 1023", c.NodeID))
	}
	c.OrphanHoldAfter = l.duration("MINIMART_ORPHAN_HOLD_AFTER", 3*time.Second, time.Hour)
	modules := l.str("MINIMART_MODULES")
	if o.Modules != "" {
		modules = o.Modules
	}
	c.Modules, c.Peers, c.ServiceToken = l.split(modules, c.AMQPURL != "")
	if w := c.WeChatPay; w.MchID != "" {
		for name, v := range map[string]string{"MINIMART_WECHATPAY_APPID (or MINIMART_WECHAT_APPID)": w.AppID,
			"MINIMART_WECHATPAY_MCH_SERIAL": w.MchSerial, "MINIMART_WECHATPAY_PRIVATE_KEY_FILE": w.PrivateKeyFile,
			"MINIMART_WECHATPAY_PUBLIC_KEY_ID": w.PublicKeyID, "MINIMART_WECHATPAY_PUBLIC_KEY_FILE": w.PublicKeyFile} {
			if v == "" {
				l.fail(name, "must be set when MINIMART_WECHATPAY_MCH_ID is set")
			}
		}
		if len(w.APIv3Key) != 32 {
			l.fail("MINIMART_WECHATPAY_APIV3_KEY", "must be the 32-byte APIv3 key when MINIMART_WECHATPAY_MCH_ID is set")
		}
	}
	if a := c.Alipay; a.AppID != "" && (a.PrivateKeyFile == "" || a.PublicKeyFile == "") {
		l.fail("MINIMART_ALIPAY_APPID", "set MINIMART_ALIPAY_PRIVATE_KEY_FILE and MINIMART_ALIPAY_PUBLIC_KEY_FILE with it")
	}
	switch l.str("MINIMART_BOOTSTRAP_ADMIN") {
	case "auto", "1":
		c.BootstrapAdminAuto = true
	case "0":
	default:
		l.fail("MINIMART_BOOTSTRAP_ADMIN", "must be auto or 0")
	}
	if o.Addr != "" {
		c.Addr = o.Addr
	}
	switch {
	case c.OpsAddr == "off":
		c.OpsAddr = ""
	case !validListenAddr(c.OpsAddr):
		l.fail("MINIMART_OPS_ADDR", fmt.Sprintf("%q is not host:port (e.g. 127.0.0.1:9090 or :9090) nor off", c.OpsAddr))
	case c.OpsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0"):
		l.fail("MINIMART_OPS_ADDR", fmt.Sprintf("is %s, the same as MINIMART_ADDR; the operator listener needs its own port", c.OpsAddr))
	}
	if o.DataDir != "" {
		c.DataDir = o.DataDir
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		l.fail("MINIMART_JWT_SECRET", fmt.Sprintf("is %d bytes; it must be at least 32", len(c.JWTSecret)))
	}
	if c.JWTSecret == "" && !c.Embedded() {
		l.fail("MINIMART_JWT_SECRET", "must be set when MINIMART_DB_URL is set, so every instance signs with the same key")
	}
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				l.fail("MINIMART_TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or CIDR", p))
			}
		}
	}
	c.CORSOrigins = l.origins("MINIMART_CORS_ORIGINS")
	c.TLSCertFile, c.TLSKeyFile = l.str("MINIMART_TLS_CERT_FILE"), l.str("MINIMART_TLS_KEY_FILE")
	switch {
	case c.TLSCertFile != "" && c.TLSKeyFile == "":
		l.fail("MINIMART_TLS_KEY_FILE", "must be set when MINIMART_TLS_CERT_FILE is set")
	case c.TLSCertFile == "" && c.TLSKeyFile != "":
		l.fail("MINIMART_TLS_CERT_FILE", "must be set when MINIMART_TLS_KEY_FILE is set")
	}
	c.RateLimits = RateLimits{
		Register: l.rateLimit("MINIMART_RATELIMIT_REGISTER"), Login: l.rateLimit("MINIMART_RATELIMIT_LOGIN"),
		Refresh: l.rateLimit("MINIMART_RATELIMIT_REFRESH"), Search: l.rateLimit("MINIMART_RATELIMIT_SEARCH"),
		Order: l.rateLimit("MINIMART_RATELIMIT_ORDER"), OrderIP: l.rateLimit("MINIMART_RATELIMIT_ORDER_IP"),
		Payment: l.rateLimit("MINIMART_RATELIMIT_PAYMENT"), PaymentIP: l.rateLimit("MINIMART_RATELIMIT_PAYMENT_IP"),
	}
	if l.oneOf("MINIMART_RATELIMITS", "0", "1") == "0" {
		c.RateLimits, c.RateLimitsOff = RateLimits{}, true
	}
	if (c.WeChatAppID == "") != (c.WeChatSecret == "") {
		l.fail("MINIMART_WECHAT_APPID", "set both MINIMART_WECHAT_APPID and MINIMART_WECHAT_SECRET, or neither")
	}
	return c, errors.Join(l.errs...)
}

// split reads which modules run here, where the others run, and the service token, and
// checks that they fit together: every module a served one needs is served or has a peer
// address, no module is both, and a split process has a token and a broker to share events.
func (l *loader) split(list string, haveBroker bool) (modules []string, peers map[string]string, token string) {
	const name = "MINIMART_MODULES"
	if strings.TrimSpace(list) == "all" {
		modules = slices.Clone(Modules)
	} else {
		want := map[string]bool{}
		for _, m := range strings.Split(list, ",") {
			m = strings.TrimSpace(m)
			switch {
			case m == "":
			case !slices.Contains(Modules, m):
				l.fail(name, fmt.Sprintf("%q is not a module; the modules are %s (or all)", m, strings.Join(Modules, ", ")))
			case want[m]:
				l.fail(name, fmt.Sprintf("%q is listed twice", m))
			}
			want[m] = true
		}
		for _, m := range Modules { // a stable order, whatever order they were given in
			if want[m] {
				modules = append(modules, m)
			}
		}
		if len(modules) == 0 {
			l.fail(name, "names no module; give some of "+strings.Join(Modules, ", ")+", or all")
		}
	}
	peers = map[string]string{}
	for _, m := range Modules {
		v := PeerVar(m)
		target := l.str(v)
		served := slices.Contains(modules, m)
		switch {
		case target != "" && served:
			l.fail(v, fmt.Sprintf("is set, but the %s module runs in this process (MINIMART_MODULES); set one or the other", m))
		case target != "":
			if err := peer.CheckTarget(target); err != nil {
				l.fail(v, err.Error()+" (give base URLs such as http://10.0.0.5:8080, comma-separated, or dns://name:port)")
			}
			peers[m] = target
		}
	}
	missing := map[string]bool{} // each missing peer is said once, for the first module needing it
	for _, m := range modules {
		for _, need := range ModuleNeeds[m] {
			if !slices.Contains(modules, need) && peers[need] == "" && !missing[need] {
				missing[need] = true
				l.fail(PeerVar(need), fmt.Sprintf("must say where the %s module runs: the %s module here calls it", need, m))
			}
		}
	}
	token = l.str("MINIMART_SERVICE_TOKEN")
	if len(modules) < len(Modules) || token != "" {
		switch {
		case token == "":
			l.fail("MINIMART_SERVICE_TOKEN", "must be set when some modules run in other processes: services authenticate each other with it")
		case len(token) < 32:
			l.fail("MINIMART_SERVICE_TOKEN", fmt.Sprintf("is %d bytes; it must be at least 32", len(token)))
		}
	}
	if len(modules) < len(Modules) && !haveBroker {
		l.fail("MINIMART_AMQP_URL", "must be set when some modules run in other processes: the in-process event bus cannot reach them")
	}
	return modules, peers, token
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, problem string) {
	l.errs = append(l.errs, &Error{Var: name, Problem: problem})
}

// validListenAddr reports whether addr is host:port with a port net.Listen accepts.
func validListenAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func (l *loader) str(name string) string {
	if v := l.getenv(name); v != "" {
		return v
	}
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undeclared variable " + name)
}

func (l *loader) url(name string, schemes ...string) string {
	v := l.str(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		l.fail(name, "is not a valid URL")
		return ""
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	l.fail(name, fmt.Sprintf("scheme must be %s://", strings.Join(schemes, ":// or ")))
	return ""
}

// origins reads a comma-separated list of exact origins, written as a browser sends them in
// Origin (a default port is dropped, scheme and host lower-cased). "*" is refused: answers
// carry credentials (the refresh cookie), and a wildcard would hand them to every site.
func (l *loader) origins(name string) []string {
	var out []string
	for _, v := range strings.Split(l.str(name), ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if v == "*" {
			l.fail(name, "* is not allowed: list each origin whose pages may call the API with credentials")
			continue
		}
		u, err := url.Parse(v)
		if err == nil && u.User != nil {
			// Not quoted: it holds a password.
			l.fail(name, "an origin has user:password@ in it; write scheme://host[:port]")
			continue
		}
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery || strings.HasSuffix(v, "#") {
			l.fail(name, fmt.Sprintf("%q is not an origin: write scheme://host[:port] (http or https), without a path", v))
			continue
		}
		host, port := strings.ToLower(u.Hostname()), u.Port()
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				l.fail(name, fmt.Sprintf("%q has an invalid port", v))
				continue
			}
		}
		if port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
			port = ""
		}
		origin := u.Scheme + "://" + net.JoinHostPort(host, port)
		if port == "" {
			origin = u.Scheme + "://" + bracketed(host)
		}
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	return out
}

// bracketed writes an IPv6 host as a URL does, in brackets.
func bracketed(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

func (l *loader) duration(name string, min, max time.Duration) time.Duration {
	v := l.str(name)
	d, err := time.ParseDuration(v)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a duration such as 15m or 720h", v))
		return 0
	}
	if d < min || d > max {
		l.fail(name, fmt.Sprintf("%s is outside %s–%s", d, min, max))
	}
	return d
}

func (l *loader) rateLimit(name string) ratelimit.Limit {
	lim, err := ratelimit.Parse(l.str(name))
	if err != nil {
		l.fail(name, err.Error())
	}
	return lim
}

func (l *loader) integer(name string, min, max int64) int64 {
	v := l.str(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not an integer", v))
		return 0
	}
	if n < min || n > max {
		l.fail(name, fmt.Sprintf("%d is outside %d–%d", n, min, max))
	}
	return n
}

func (l *loader) oneOf(name string, allowed ...string) string {
	v := l.str(name)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, fmt.Sprintf("%q must be one of %s", v, strings.Join(allowed, ", ")))
	return ""
}
