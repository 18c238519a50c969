// Package wechatlogin exchanges mini-program login codes for openids through WeChat's
// code2session API.
//
// It is written by hand rather than with an SDK: the call is one GET with a JSON answer,
// and the SDKs (silenceper/wechat, PowerWeChat) hard-code api.weixin.qq.com, while
// operators and tests need a configurable base URL (MINIMART_WECHAT_API_BASE).
package wechatlogin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/user"
)

// Errors for WeChat's documented code2session error codes. Codes that the operator must
// fix (a wrong secret) say which setting to check; those the client must fix (a stale code)
// say so.
var (
	ErrCodeInvalid   = errs.New(errs.Unauthorized, "wechat_code_invalid", "the wx.login code is invalid or expired; call wx.login again (WeChat 40029)")
	ErrCodeUsed      = errs.New(errs.Unauthorized, "wechat_code_used", "the wx.login code was already used; call wx.login again for a new one (WeChat 40163)")
	ErrSecretInvalid = errs.New(errs.Unavailable, "wechat_misconfigured", "WeChat rejected the appsecret; the operator must check MINIMART_WECHAT_APPID and MINIMART_WECHAT_SECRET (WeChat 40125/40013)")
	ErrRateLimited   = errs.New(errs.TooManyRequests, "wechat_rate_limited", "WeChat is limiting login requests for this mini-program; retry shortly (WeChat 45011)").
				With(map[string]any{errs.RetryAfterSeconds: int64(60)})
	ErrBusy        = errs.New(errs.Unavailable, "wechat_busy", "WeChat is busy; retry in a moment (WeChat -1)")
	ErrUpstream    = errs.New(errs.Unavailable, "wechat_unavailable", "WeChat's login service did not answer usefully; retry later")
	ErrUserBlocked = errs.New(errs.Forbidden, "wechat_user_blocked", "WeChat blocks this user from logging in (WeChat 40226)")
)

// Client calls code2session.
type Client struct {
	base   string
	appID  string
	secret string
	http   *http.Client
}

// New returns a client for the mini-program appID/secret at WeChat's API base URL.
func New(base, appID, secret string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), appID: appID, secret: secret, http: hc}
}

var _ user.CodeExchanger = (*Client)(nil)

// response is code2session's answer; WeChat leaves errcode out (or 0) on success.
type response struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// Code2Session exchanges a wx.login code for the buyer's openid (and unionid if bound).
func (c *Client) Code2Session(ctx context.Context, code string) (user.MiniProgramSession, error) {
	q := url.Values{"appid": {c.appID}, "secret": {c.secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return user.MiniProgramSession{}, fmt.Errorf("code2session request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The error text holds the URL with the secret in it; never pass it on.
		return user.MiniProgramSession{}, ErrUpstream.Withf("WeChat's login service is unreachable; retry later")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return user.MiniProgramSession{}, ErrUpstream
	}
	return parse(body)
}

func parse(body []byte) (user.MiniProgramSession, error) {
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return user.MiniProgramSession{}, ErrUpstream
	}
	switch r.ErrCode {
	case 0:
	case 40029:
		return user.MiniProgramSession{}, ErrCodeInvalid
	case 40163:
		return user.MiniProgramSession{}, ErrCodeUsed
	case 40125, 40013, 41002, 41004:
		return user.MiniProgramSession{}, ErrSecretInvalid
	case 45011:
		return user.MiniProgramSession{}, ErrRateLimited
	case -1:
		return user.MiniProgramSession{}, ErrBusy
	case 40226:
		return user.MiniProgramSession{}, ErrUserBlocked
	default:
		return user.MiniProgramSession{}, ErrUpstream.Withf("WeChat answered error %d: %s", r.ErrCode, clip.Bytes(r.ErrMsg, 120))
	}
	if r.OpenID == "" || len(r.OpenID) > 64 || len(r.UnionID) > 64 {
		return user.MiniProgramSession{}, ErrUpstream
	}
	return user.MiniProgramSession{OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}
