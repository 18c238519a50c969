package main

// The orders group's setup through minimart's API: staff login, catalog, stock, buyers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// ordersFixture is what the scenarios need from the setup.
type ordersFixture struct {
	staffToken string
	skus       []string // spread scenario
	flashSKU   string
	flashStock int
	buyers     []buyer // one per connection
	nonce      string  // makes Idempotency-Keys unique across runs
}

type buyer struct {
	token   string
	address string
}

// apiClient makes the setup calls: JSON in, JSON out, one expected status.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: ordersSetupWorkers,
		},
	}}
}

func (c *apiClient) call(ctx context.Context, method, path, token string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, firstLines(string(data), 2))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer (%v): %s", method, path, err, firstLines(string(data), 2))
		}
	}
	return nil
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the first error; after
// an error no new call starts.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		return context.Cause(ctx) // the caller's context ended; nil when all ran
	}
	return first
}

// prepareOrders logs the staff in and creates the catalog, stock, buyers and addresses.
func prepareOrders(ctx context.Context, api *apiClient, password string, buyers, flashStock int) (*ordersFixture, error) {
	fx := &ordersFixture{flashStock: flashStock, nonce: randomHex(4)}
	var login struct {
		Tokens struct {
			AccessToken string `json:"access_token"`
		} `json:"tokens"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/v1/admin/auth/login", "",
		map[string]string{"username": ordersStaffUser, "password": password}, http.StatusOK, &login); err != nil {
		return nil, err
	}
	if login.Tokens.AccessToken == "" {
		return nil, errors.New("POST /api/v1/admin/auth/login: no tokens.access_token in the answer")
	}
	fx.staffToken = login.Tokens.AccessToken
	staff := fx.staffToken

	var cat struct {
		ID string `json:"id"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/v1/admin/categories", staff, map[string]string{"name": "压测"}, http.StatusCreated, &cat); err != nil {
		return nil, err
	}
	if cat.ID == "" {
		return nil, errors.New("POST /api/v1/admin/categories: no id in the answer")
	}

	// Products: ordersProducts with ordersSKUsPerProduct SKUs each, then the flash one.
	skuLists := make([][]string, ordersProducts+1)
	err := parallel(ctx, ordersProducts+1, ordersSetupWorkers, func(ctx context.Context, p int) error {
		title, values := fmt.Sprintf("压测商品 %03d", p+1), make([]string, ordersSKUsPerProduct)
		if p == ordersProducts {
			title, values = "秒杀商品", values[:1]
		}
		type sku struct {
			Specs map[string]string `json:"specs"`
			Price int               `json:"price"`
		}
		skus := make([]sku, len(values))
		for i := range values {
			values[i] = fmt.Sprintf("款式%02d", i+1)
			skus[i] = sku{Specs: map[string]string{"规格": values[i]}, Price: ordersPrice}
		}
		in := map[string]any{
			"category_id": cat.ID,
			"title":       title,
			"specs":       []map[string]any{{"name": "规格", "values": values}},
			"skus":        skus,
			"on_shelf":    true,
		}
		var out struct {
			SKUs []struct {
				ID string `json:"id"`
			} `json:"skus"`
		}
		if err := api.call(ctx, http.MethodPost, "/api/v1/admin/products", staff, in, http.StatusCreated, &out); err != nil {
			return err
		}
		if len(out.SKUs) != len(values) {
			return fmt.Errorf("POST /api/v1/admin/products: %d SKUs in the answer, want %d", len(out.SKUs), len(values))
		}
		for _, s := range out.SKUs {
			if s.ID == "" {
				return errors.New("POST /api/v1/admin/products: a SKU without an id in the answer")
			}
			skuLists[p] = append(skuLists[p], s.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, l := range skuLists[:ordersProducts] {
		fx.skus = append(fx.skus, l...)
	}
	fx.flashSKU = skuLists[ordersProducts][0]

	// Stock.
	all := append(append([]string{}, fx.skus...), fx.flashSKU)
	err = parallel(ctx, len(all), ordersSetupWorkers, func(ctx context.Context, i int) error {
		stock := ordersSpreadStock
		if all[i] == fx.flashSKU {
			stock = flashStock
		}
		return api.call(ctx, http.MethodPut, "/api/v1/admin/skus/"+url.PathEscape(all[i])+"/stock", staff,
			map[string]int{"stock": stock}, http.StatusOK, nil)
	})
	if err != nil {
		return nil, err
	}

	// Buyers, each with an address.
	fx.buyers = make([]buyer, buyers)
	err = parallel(ctx, buyers, ordersSetupWorkers, func(ctx context.Context, i int) error {
		var reg struct {
			Tokens struct {
				AccessToken string `json:"access_token"`
			} `json:"tokens"`
		}
		in := map[string]string{"username": fmt.Sprintf("buyer%03d_%s", i+1, fx.nonce), "password": "Pw-" + randomHex(6) + "-1x"}
		if err := api.call(ctx, http.MethodPost, "/api/v1/auth/register", "", in, http.StatusCreated, &reg); err != nil {
			return err
		}
		if reg.Tokens.AccessToken == "" {
			return errors.New("POST /api/v1/auth/register: no tokens.access_token in the answer")
		}
		var addr struct {
			ID string `json:"id"`
		}
		if err := api.call(ctx, http.MethodPost, "/api/v1/me/addresses", reg.Tokens.AccessToken, map[string]string{
			"recipient": "张三", "phone": "13800000000", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "1号",
		}, http.StatusCreated, &addr); err != nil {
			return err
		}
		if addr.ID == "" {
			return errors.New("POST /api/v1/me/addresses: no id in the answer")
		}
		fx.buyers[i] = buyer{token: reg.Tokens.AccessToken, address: addr.ID}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fx, nil
}
