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
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// buildPayments configures the payment providers and the payment service. A provider whose
// variables are unset is not offered; the sandbox is offered when no real one is (or when
// MINIMART_PAYMENT_SANDBOX=1).
func (a *App) buildPayments(ctx context.Context, signingKey []byte, gen *ids.Generator, outbox *events.Outbox,
	orders orderSource, buyers payment.Buyers, reg prometheus.Registerer) error {
	cfg := a.Config
	initial := cfg.PublicURL
	if initial == "" {
		initial = defaultPublicURL(cfg.Addr)
	}
	a.publicURL.Store(&initial)
	publicURL := func() string { return *a.publicURL.Load() }

	var providers []payment.Provider
	if w := cfg.WeChatPay; w.MchID != "" {
		key, err := wechatpay.LoadPrivateKey(w.PrivateKeyFile)
		if err != nil {
			return &config.Error{Var: "MINIMART_WECHATPAY_PRIVATE_KEY_FILE", Problem: err.Error()}
		}
		pub, err := wechatpay.LoadPublicKey(w.PublicKeyFile)
		if err != nil {
			return &config.Error{Var: "MINIMART_WECHATPAY_PUBLIC_KEY_FILE", Problem: err.Error()}
		}
		p, err := wechatpay.New(ctx, wechatpay.Config{AppID: w.AppID, MchID: w.MchID, MchCertSerial: w.MchSerial,
			MchPrivateKey: key, APIv3Key: w.APIv3Key, PlatformKeyID: w.PublicKeyID, PlatformPublicKey: pub, BaseURL: w.APIBase})
		if err != nil {
			return &config.Error{Var: "MINIMART_WECHATPAY_MCH_ID", Problem: err.Error()}
		}
		providers = append(providers, p)
	}
	if al := cfg.Alipay; al.AppID != "" {
		key, err := alipay.LoadKey(al.PrivateKeyFile)
		if err != nil {
			return &config.Error{Var: "MINIMART_ALIPAY_PRIVATE_KEY_FILE", Problem: err.Error()}
		}
		pub, err := alipay.LoadKey(al.PublicKeyFile)
		if err != nil {
			return &config.Error{Var: "MINIMART_ALIPAY_PUBLIC_KEY_FILE", Problem: err.Error()}
		}
		p, err := alipay.New(alipay.Config{AppID: al.AppID, PrivateKey: key, AlipayPublicKey: pub, Gateway: al.Gateway})
		if err != nil {
			return &config.Error{Var: "MINIMART_ALIPAY_APPID", Problem: err.Error()}
		}
		providers = append(providers, p)
	}
	if cfg.PaymentSandbox == "1" || (cfg.PaymentSandbox == "auto" && len(providers) == 0) {
		if !cfg.Embedded() {
			a.log.Warn("the sandbox payment provider is on: anyone can pay orders at its cashier without money; " +
				"configure MINIMART_WECHATPAY_* or MINIMART_ALIPAY_* (or MINIMART_PAYMENT_SANDBOX=0) before taking real orders")
		}
		a.Sandbox = sandbox.New(a.DB, sandboxKey(signingKey), publicURL, a.log)
		a.closers = append(a.closers, a.Sandbox.Stop)
		providers = append(providers, a.Sandbox)
	}
	if len(providers) == 0 {
		return &config.Error{Var: "MINIMART_PAYMENT_SANDBOX", Problem: "is 0 and no payment provider is configured"}
	}
	var err error
	a.Payments, err = payment.NewService(paymentdb.New(a.DB, outbox), providers, paymentOrders{orders},
		buyers, gen, payment.Config{PublicURL: publicURL, QueryAfter: cfg.PaymentQueryAfter,
			ReturnURL: cfg.PaymentReturnURL}, a.log, reg)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, a.Payments.Close)
	return nil
}

// sandboxKey derives the sandbox's signing key from the token signing key, so every
// instance of one shop signs and verifies sandbox notifies alike with nothing more to set.
func sandboxKey(signingKey []byte) ed25519.PrivateKey {
	seed := sha256.Sum256(append([]byte("minimart sandbox notify key\x00"), signingKey...))
	return ed25519.NewKeyFromSeed(seed[:])
}

// defaultPublicURL is the shop on this machine at the listen address's port.
func defaultPublicURL(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		port = "8080"
	}
	return "http://127.0.0.1:" + port
}

// listenURL is the shop at the address it actually listens on.
func listenURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := "127.0.0.1"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
