package app

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/ratelimit"
	"github.com/minimart/minimart/internal/platform/web"
)

// limits are the rate-limit middlewares of the limited endpoints (MINIMART_RATELIMIT_*).
type limits struct {
	register, login, refresh, search, order, payment web.Middleware
}

// rateLimits builds the limits over the app's cache, so instances sharing a Redis share
// their counts.
func (a *App) rateLimits(ips *web.ClientIPs) limits {
	if a.Config.RateLimitsOff {
		a.log.Warn("rate limits are off (MINIMART_RATELIMITS=0): registrations, logins, refreshes, orders, payments and searches are not limited per client")
	}
	l := ratelimit.New(a.cache, ips, a.log)
	rl := a.Config.RateLimits
	return limits{
		register: l.Middleware(ratelimit.Rule{Name: "register", PerIP: rl.Register}),
		login:    l.Middleware(ratelimit.Rule{Name: "login", PerIP: rl.Login}),
		refresh:  l.Middleware(ratelimit.Rule{Name: "refresh", PerIP: rl.Refresh}),
		search:   l.Middleware(ratelimit.Rule{Name: "search", PerIP: rl.Search}),
		order:    l.Middleware(ratelimit.Rule{Name: "order", PerIP: rl.OrderIP, PerUser: rl.Order}),
		payment:  l.Middleware(ratelimit.Rule{Name: "payment", PerIP: rl.PaymentIP, PerUser: rl.Payment}),
	}
}

// loadTLS reads MINIMART_TLS_CERT_FILE and MINIMART_TLS_KEY_FILE when they are set (nil
// otherwise), so a missing or mismatched file stops the start, naming the variable, instead
// of failing every handshake later. A renewed certificate is read at the next start.
func loadTLS(cfg config.Config) (*tls.Config, error) {
	if !cfg.TLS() {
		return nil, nil
	}
	certPEM, err := os.ReadFile(cfg.TLSCertFile)
	if err != nil {
		return nil, &config.Error{Var: "MINIMART_TLS_CERT_FILE", Problem: err.Error()}
	}
	keyPEM, err := os.ReadFile(cfg.TLSKeyFile)
	if err != nil {
		return nil, &config.Error{Var: "MINIMART_TLS_KEY_FILE", Problem: err.Error()}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &config.Error{Var: "MINIMART_TLS_CERT_FILE",
			Problem: fmt.Sprintf("with MINIMART_TLS_KEY_FILE is not a usable certificate and key: %v", err)}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
