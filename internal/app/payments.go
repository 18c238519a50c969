package app

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/alipay"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/payment/sandbox"
	"github.com/minimart/minimart/internal/payment/wechatpay"
	"github.com/minimart/minimart/internal/platform/config"
)

// buildPayments builds the payment module of the serving process, whose notify URLs follow
// the address it listens on once Run knows it.
func (a *App) buildPayments(ctx context.Context, base *Base, signingKey []byte, orders orderSource, buyers payment.Buyers,
	reg prometheus.Registerer) error {
	cfg := a.Config
	initial := cfg.PublicURL
	if initial == "" {
		initial = defaultPublicURL(cfg.Addr, cfg.TLS())
	}
	a.publicURL.Store(&initial)
	publicURL := func() string { return *a.publicURL.Load() }
	var err error
	a.Payments, a.Sandbox, err = base.payments(ctx, signingKey, publicURL, paymentOrders{orders}, buyers, reg)
	if err != nil {
		return err
	}
	if a.Sandbox != nil && !cfg.Embedded() {
		a.log.Warn("the sandbox payment provider is on: anyone can pay orders at its cashier without money; " +
			"configure MINIMART_WECHATPAY_* or MINIMART_ALIPAY_* (or MINIMART_PAYMENT_SANDBOX=0) before taking real orders")
	}
	return nil
}

// payments configures the payment providers and the payment service; the sandbox is
// returned when it is one of them. A provider whose variables are unset is not offered;
// the sandbox is offered when no real one is (or when MINIMART_PAYMENT_SANDBOX=1).
func (b *Base) payments(ctx context.Context, signingKey []byte, publicURL func() string, orders payment.Orders,
	buyers payment.Buyers, reg prometheus.Registerer) (*payment.Service, *sandbox.Provider, error) {
	cfg := b.Config
	var providers []payment.Provider
	if w := cfg.WeChatPay; w.MchID != "" {
		key, err := wechatpay.LoadPrivateKey(w.PrivateKeyFile)
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_WECHATPAY_PRIVATE_KEY_FILE", Problem: err.Error()}
		}
		pub, err := wechatpay.LoadPublicKey(w.PublicKeyFile)
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_WECHATPAY_PUBLIC_KEY_FILE", Problem: err.Error()}
		}
		p, err := wechatpay.New(ctx, wechatpay.Config{AppID: w.AppID, MchID: w.MchID, MchCertSerial: w.MchSerial,
			MchPrivateKey: key, APIv3Key: w.APIv3Key, PlatformKeyID: w.PublicKeyID, PlatformPublicKey: pub, BaseURL: w.APIBase})
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_WECHATPAY_MCH_ID", Problem: err.Error()}
		}
		providers = append(providers, p)
	}
	if al := cfg.Alipay; al.AppID != "" {
		key, err := alipay.LoadKey(al.PrivateKeyFile)
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_ALIPAY_PRIVATE_KEY_FILE", Problem: err.Error()}
		}
		pub, err := alipay.LoadKey(al.PublicKeyFile)
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_ALIPAY_PUBLIC_KEY_FILE", Problem: err.Error()}
		}
		p, err := alipay.New(alipay.Config{AppID: al.AppID, PrivateKey: key, AlipayPublicKey: pub, Gateway: al.Gateway})
		if err != nil {
			return nil, nil, &config.Error{Var: "MINIMART_ALIPAY_APPID", Problem: err.Error()}
		}
		providers = append(providers, p)
	}
	var sb *sandbox.Provider
	if cfg.PaymentSandbox == "1" || (cfg.PaymentSandbox == "auto" && len(providers) == 0) {
		sb = sandbox.New(b.DB, sandboxKey(signingKey), publicURL, b.log)
		providers = append(providers, sb)
	}
	if len(providers) == 0 {
		return nil, nil, &config.Error{Var: "MINIMART_PAYMENT_SANDBOX", Problem: "is 0 and no payment provider is configured"}
	}
	svc, err := payment.NewService(paymentdb.New(b.DB, b.Outbox), providers, orders, buyers, b.IDs,
		payment.Config{PublicURL: publicURL, QueryAfter: cfg.PaymentQueryAfter, ReturnURL: cfg.PaymentReturnURL}, b.log, reg)
	if err != nil {
		return nil, nil, err
	}
	b.closers = append(b.closers, svc.Close)
	return svc, sb, nil
}

// sandboxKey derives the sandbox's signing key from the token signing key, so every
// instance of one shop signs and verifies sandbox notifies alike with nothing more to set.
func sandboxKey(signingKey []byte) ed25519.PrivateKey {
	seed := sha256.Sum256(append([]byte("minimart sandbox notify key\x00"), signingKey...))
	return ed25519.NewKeyFromSeed(seed[:])
}

// defaultPublicURL is the shop on this machine at the listen address's port, over HTTPS when
// it serves TLS itself.
func defaultPublicURL(addr string, tls bool) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		port = "8080"
	}
	return scheme(tls) + "://127.0.0.1:" + port
}

// listenURL is the shop at the address it actually listens on.
func listenURL(addr net.Addr, tls bool) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme(tls) + "://" + addr.String()
	}
	host := "127.0.0.1"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return scheme(tls) + "://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func scheme(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}
