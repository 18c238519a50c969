// Package wechatpay is the WeChat Pay API v3 adapter behind payment.Provider: JSAPI
// (mini-program) and Native (QR code) payments, their notifies, queries, refunds and the daily
// trade bill.
//
// Every request, signature and verification goes through the official SDK
// (github.com/wechatpay-apiv3/wechatpay-go); this package adds what the SDK lacks: the mapping
// to the payment module's types, the trade-bill CSV parser and a transport that sends the
// SDK's requests to another base URL (the fake in wechatpaytest).
package wechatpay

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/errs"
)

// apiHost is where the SDK sends every request; its service paths are fixed to this host.
const apiHost = "api.mch.weixin.qq.com"

// defaultTimeout bounds one call to WeChat Pay when the caller brings no client of its own.
const defaultTimeout = 15 * time.Second

// apiV3KeyLength is the length WeChat Pay gives APIv3 keys; AES-256 needs exactly this.
const apiV3KeyLength = 32

// Errors this adapter returns on top of the payment module's.
var (
	ErrOpenIDRequired    = errs.New(errs.Invalid, "openid_required", "a WeChat JSAPI payment needs the payer's openid")
	ErrMethodUnsupported = errs.New(errs.Invalid, "payment_method_unsupported", "WeChat Pay does not offer this payment method")
)

// Config is a merchant's WeChat Pay API v3 account.
type Config struct {
	AppID string
	MchID string
	// MchCertSerial is the serial number of the merchant API certificate whose key is MchPrivateKey.
	MchCertSerial string
	MchPrivateKey *rsa.PrivateKey
	// APIv3Key decrypts notifies; 32 bytes.
	APIv3Key string
	// PlatformKeyID is the WeChat Pay public key ID (PUB_KEY_ID_...) or a platform certificate
	// serial; PlatformPublicKey is its key. Responses and notifies must be signed with it.
	PlatformKeyID     string
	PlatformPublicKey *rsa.PublicKey
	// BaseURL is "" for https://api.mch.weixin.qq.com; otherwise scheme://host[:port] that
	// receives every request instead (tests point it at wechatpaytest).
	BaseURL string
	// HTTPClient is nil for a client with a sane timeout.
	HTTPClient *http.Client
}

// Provider is WeChat Pay as a payment.Provider. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	client *core.Client
	// downloadClient skips response verification: WeChat Pay does not sign bill files, whose
	// integrity is checked against the hash in the signed tradebill answer instead.
	downloadClient *core.Client
	jsapi          *jsapi.JsapiApiService
	native         *native.NativeApiService
	refunds        *refunddomestic.RefundsApiService
	// notifyValidator checks a notify's signature and timestamp against the platform key.
	notifyValidator *validators.WechatPayNotifyValidator
}

var _ payment.Provider = (*Provider)(nil)

// New checks cfg and builds the SDK client from it.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	httpClient, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	client, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher(cfg.MchID, cfg.MchCertSerial, cfg.MchPrivateKey, cfg.PlatformKeyID, cfg.PlatformPublicKey),
		option.WithHTTPClient(httpClient),
	)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %w", err)
	}
	return &Provider{
		cfg:            cfg,
		client:         client,
		downloadClient: core.NewClientWithValidator(client, &validators.NullValidator{}),
		jsapi:          &jsapi.JsapiApiService{Client: client},
		native:         &native.NativeApiService{Client: client},
		refunds:        &refunddomestic.RefundsApiService{Client: client},
		notifyValidator: validators.NewWechatPayNotifyValidator(
			verifiers.NewSHA256WithRSAPubkeyVerifier(cfg.PlatformKeyID, *cfg.PlatformPublicKey)),
	}, nil
}

func (cfg Config) validate() error {
	var missing []string
	for _, field := range []struct {
		name  string
		empty bool
	}{
		{"AppID", cfg.AppID == ""},
		{"MchID", cfg.MchID == ""},
		{"MchCertSerial", cfg.MchCertSerial == ""},
		{"MchPrivateKey", cfg.MchPrivateKey == nil},
		{"APIv3Key", cfg.APIv3Key == ""},
		{"PlatformKeyID", cfg.PlatformKeyID == ""},
		{"PlatformPublicKey", cfg.PlatformPublicKey == nil},
	} {
		if field.empty {
			missing = append(missing, field.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("wechatpay: config is missing %s", strings.Join(missing, ", "))
	}
	if len(cfg.APIv3Key) != apiV3KeyLength {
		return fmt.Errorf("wechatpay: APIv3Key must be %d bytes, got %d", apiV3KeyLength, len(cfg.APIv3Key))
	}
	return nil
}

// httpClient is the client the SDK sends with: the configured one or a default, rerouted to
// BaseURL when one is set.
func (cfg Config) httpClient() (*http.Client, error) {
	client := &http.Client{Timeout: defaultTimeout}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	if cfg.BaseURL == "" {
		return client, nil
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		strings.Trim(base.Path, "/") != "" || base.RawQuery != "" {
		// A path could not be kept: the SDK signs the request URI it builds for apiHost.
		return nil, fmt.Errorf("wechatpay: BaseURL %q must be scheme://host[:port] without a path", cfg.BaseURL)
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = &rerouteTransport{scheme: base.Scheme, host: base.Host, next: next}
	return client, nil
}

// rerouteTransport sends requests for apiHost to another host. Only the host changes, so the
// signed request URI stays valid.
type rerouteTransport struct {
	scheme, host string
	next         http.RoundTripper
}

func (t *rerouteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != apiHost {
		return t.next.RoundTrip(req)
	}
	rerouted := req.Clone(req.Context())
	rerouted.URL.Scheme = t.scheme
	rerouted.URL.Host = t.host
	rerouted.Host = ""
	return t.next.RoundTrip(rerouted)
}

// String names the account without its secrets, so that logging a Config is safe.
func (cfg Config) String() string {
	return fmt.Sprintf("wechatpay.Config{AppID: %s, MchID: %s, MchCertSerial: %s, PlatformKeyID: %s, BaseURL: %q}",
		cfg.AppID, cfg.MchID, cfg.MchCertSerial, cfg.PlatformKeyID, cfg.BaseURL)
}

// String keeps the APIv3 key out of logs, as Config.String does.
func (p *Provider) String() string { return "wechatpay.Provider{" + p.cfg.String() + "}" }

// Name is the notify path segment and the stored provider name.
func (p *Provider) Name() string { return "wechat" }

// Methods are the WeChat Pay methods this adapter offers.
func (p *Provider) Methods() []payment.Method {
	return []payment.Method{payment.WeChatJSAPI, payment.WeChatNative}
}

// providerError is a failed call to WeChat Pay: the payment module sees ErrProvider (or a
// more precise sentinel), while context cancellation stays detectable through the cause.
type providerError struct {
	appErr *errs.Error
	cause  error
}

func (e *providerError) Error() string   { return e.appErr.Error() }
func (e *providerError) Unwrap() []error { return []error{e.appErr, e.cause} }

// failure wraps an SDK error of operation op as sentinel (usually payment.ErrProvider). WeChat's
// own code and message go into the text; URLs do not, because a bill download URL carries a
// token.
func failure(sentinel *errs.Error, op string, err error) error {
	return &providerError{appErr: sentinel.Withf("wechat pay %s: %s", op, describe(err)), cause: err}
}

func describe(err error) string {
	var apiErr *core.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("HTTP %d %s: %s", apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Op + ": " + urlErr.Err.Error()
	}
	return err.Error()
}

// apiErrorCode is WeChat's error code in err, "" when WeChat did not answer with one.
func apiErrorCode(err error) (status int, code string) {
	var apiErr *core.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode, apiErr.Code
	}
	return 0, ""
}

// deref reads an optional SDK field.
func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}
