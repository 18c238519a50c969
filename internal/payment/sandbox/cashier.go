package sandbox

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/web"
)

// CashierRoutes serves the sandbox's cashier: the page a buyer opens, and its Pay and Fail
// buttons, all under the trade's pay link. Clients that ask for JSON (Accept:
// application/json) get JSON, so tests and `minimart sandbox pay` drive the same cashier a
// person clicks.
func CashierRoutes(rt *web.Router, p *Provider) {
	rt.HandleFunc("GET /sandbox/pay/{trade}/{token}", p.linked(p.page))
	rt.HandleFunc("POST /sandbox/pay/{trade}/{token}/pay", p.linked(p.pay))
	rt.HandleFunc("POST /sandbox/pay/{trade}/{token}/fail", p.linked(p.fail))
}

// linked refuses a request whose link token was not made for its trade or has run out.
func (p *Provider) linked(h web.HandlerFunc) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := p.checkLink(r.PathValue("trade"), r.PathValue("token")); err != nil {
			return err
		}
		return h(w, r)
	}
}

// The page links back to the storefront (web/store, served at /), which finds the order by
// its number and shows it paid once the notify arrived, as a provider's return URL would.
var cashierPage = template.Must(template.New("cashier").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Minimart sandbox cashier</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
.amount{font-size:2.2rem;margin:.5rem 0}button{font-size:1.1rem;padding:.6rem 1.4rem;margin-right:.6rem}
.note{color:#666;font-size:.9rem}form{display:inline}a{display:inline-block;margin-top:1.5rem}</style></head><body>
<h1>Sandbox cashier</h1>
<p class="note">No real money moves. Paying sends a signed notify to the shop, as WeChat Pay or Alipay would.</p>
<p>Order <code>{{.Trade.OutTradeNo}}</code> — {{.Trade.Description}}</p>
<p class="amount">{{.Amount}}</p>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
{{if eq .Trade.Status "pending"}}
<form method="post" action="{{.Link}}/pay"><button type="submit">Pay</button></form>
<form method="post" action="{{.Link}}/fail"><button type="submit">Fail</button></form>
{{else}}<p>Status: {{.Trade.Status}}</p>{{end}}
<p><a href="/#/pay-result?order_no={{.Trade.OutTradeNo}}">返回商店 · Back to the shop</a></p>
</body></html>`))

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (p *Provider) render(w http.ResponseWriter, r *http.Request, t Trade, message string) error {
	if wantsJSON(r) {
		web.WriteJSON(w, http.StatusOK, struct {
			Trade
			Message string `json:"message,omitempty"`
		}{t, message})
		return nil
	}
	// No script at all; the one style block is allowed by a nonce made for this answer, and
	// the forms may post only back to the shop.
	nonce := randomHex(16)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	link := "/sandbox/pay/" + r.PathValue("trade") + "/" + r.PathValue("token")
	return cashierPage.Execute(w, map[string]any{"Trade": t, "Amount": t.Amount.String(), "Message": message, "Nonce": nonce, "Link": link})
}

func (p *Provider) page(w http.ResponseWriter, r *http.Request) error {
	t, err := p.trade(r.Context(), r.PathValue("trade"))
	if err != nil {
		return cashierError(err)
	}
	return p.render(w, r, t, "")
}

func (p *Provider) pay(w http.ResponseWriter, r *http.Request) error {
	t, err := p.Pay(r.Context(), r.PathValue("trade"))
	if err != nil {
		return cashierError(err)
	}
	return p.render(w, r, t, "Paid. The shop is being notified.")
}

// fail is the buyer's payment failing (a declined card, say): like a real provider, the
// sandbox sends no notify and the trade can still be paid.
func (p *Provider) fail(w http.ResponseWriter, r *http.Request) error {
	t, err := p.trade(r.Context(), r.PathValue("trade"))
	if err != nil {
		return cashierError(err)
	}
	if t.Status != "pending" {
		return p.render(w, r, t, "This payment is "+t.Status+"; there is nothing to fail.")
	}
	return p.render(w, r, t, "Payment failed. Nothing was charged; you can try again.")
}

// ErrNoSuchTrade is the cashier's answer for a trade the sandbox never opened.
var ErrNoSuchTrade = payment.ErrTradeNotFound.Withf("the sandbox has no such payment; start it with POST /api/v1/orders/{id}/payments")

func cashierError(err error) error {
	if errors.Is(err, payment.ErrTradeNotFound) {
		return ErrNoSuchTrade
	}
	return err
}
