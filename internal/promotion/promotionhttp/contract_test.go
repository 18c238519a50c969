package promotionhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/minimart/minimart/api"
	"github.com/minimart/minimart/internal/apptest"
)

// contract checks the flash-sale answers these tests get against api/openapi.yaml: the
// status is documented for the operation, the body matches its schema (whose objects refuse
// undocumented fields), and an error's code is one the operation lists for that status.
type contract struct {
	router routers.Router
	codes  map[string][]int // components.x-error-codes: code → statuses
}

func newContract(t testing.TB) *contract {
	t.Helper()
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	table, err := api.ErrorCodes(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &contract{router: router, codes: map[string][]int{}}
	for _, row := range table {
		c.codes[row.Code] = row.Statuses
	}
	return c
}

func (c *contract) check(method, url string, r apptest.Response) error {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return err
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in the document: %w", method, url, err)
	}
	name := route.Method + " " + route.Path
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %d: the answer does not match the document: %v\nbody: %s", name, r.Status, err, r.Body)
	}
	if r.Status < 400 {
		return nil
	}
	return c.checkCode(name, route.Operation, r)
}

func (c *contract) checkCode(name string, op *openapi3.Operation, r apptest.Response) error {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" {
		return fmt.Errorf("%s %d: not an error body: %s", name, r.Status, r.Body)
	}
	codes, err := api.OperationErrorCodes(op)
	if err != nil {
		return err
	}
	if allowed := codes[strconv.Itoa(r.Status)]; !slices.Contains(allowed, e.Error.Code) {
		return fmt.Errorf("%s %d: code %q is not in the operation's x-error-codes %v", name, r.Status, e.Error.Code, allowed)
	}
	if !slices.Contains(c.codes[e.Error.Code], r.Status) {
		return fmt.Errorf("%s: code %q with %d; components.x-error-codes says %v", name, e.Error.Code, r.Status, c.codes[e.Error.Code])
	}
	return nil
}
