package wechatlogin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/wechatlogin"
)

// Bodies as WeChat sends them (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html).
func TestCode2Session(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   user.MiniProgramSession
		err    error
	}{
		{"success with unionid", 200, `{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","session_key":"tiihtNczf5v6AKRyjwEUhQ==","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}`,
			user.MiniProgramSession{OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", SessionKey: "tiihtNczf5v6AKRyjwEUhQ==", UnionID: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}, nil},
		{"success without unionid, errcode 0", 200, `{"session_key":"k","openid":"o-2","errcode":0,"errmsg":"ok"}`,
			user.MiniProgramSession{OpenID: "o-2", SessionKey: "k"}, nil},
		{"invalid code", 200, `{"errcode":40029,"errmsg":"invalid code, rid: 6541cbe9-1b0c1e9a-48d3b1b8"}`, user.MiniProgramSession{}, wechatlogin.ErrCodeInvalid},
		{"code used", 200, `{"errcode":40163,"errmsg":"code been used, rid: 6541cc0e-5e0e0b8d-6b2f9e0b"}`, user.MiniProgramSession{}, wechatlogin.ErrCodeUsed},
		{"invalid appsecret", 200, `{"errcode":40125,"errmsg":"invalid appsecret, rid: 6541cc3c-0c1a4f54-0d5f7a36"}`, user.MiniProgramSession{}, wechatlogin.ErrSecretInvalid},
		{"rate limited", 200, `{"errcode":45011,"errmsg":"api minute-quota reach limit  mustslower  retry next minute"}`, user.MiniProgramSession{}, wechatlogin.ErrRateLimited},
		{"busy", 200, `{"errcode":-1,"errmsg":"system error"}`, user.MiniProgramSession{}, wechatlogin.ErrBusy},
		{"unknown code", 200, `{"errcode":99999,"errmsg":"something new"}`, user.MiniProgramSession{}, wechatlogin.ErrUpstream},
		{"not json", 200, `<html>gateway</html>`, user.MiniProgramSession{}, wechatlogin.ErrUpstream},
		{"http 502", 502, `bad gateway`, user.MiniProgramSession{}, wechatlogin.ErrUpstream},
		{"no openid", 200, `{"session_key":"k"}`, user.MiniProgramSession{}, wechatlogin.ErrUpstream},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "wx123" || q.Get("secret") != "s3cret" ||
					q.Get("js_code") != "the-code" || q.Get("grant_type") != "authorization_code" {
					t.Errorf("unexpected request %s", r.URL)
				}
				// WeChat answers JSON with a text/plain content type.
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			got, err := wechatlogin.New(srv.URL+"/", "wx123", "s3cret", srv.Client()).Code2Session(context.Background(), "the-code")
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if got != c.want {
				t.Fatalf("session = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestCode2SessionUnreachableDoesNotLeakSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err := wechatlogin.New(srv.URL, "wx123", "very-secret-value", nil).Code2Session(context.Background(), "c")
	if !errors.Is(err, wechatlogin.ErrUpstream) {
		t.Fatalf("err = %v", err)
	}
	if got := err.Error(); strings.Contains(got, "very-secret-value") {
		t.Fatalf("error leaks the secret: %s", got)
	}
}
