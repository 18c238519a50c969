package api_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/minimart/minimart/api"
)

const errorCodeSchema = "#/components/schemas/ErrorCode"

// errorCodeEnumProblems holds the ErrorCode schema to the table of codes: the Error body's
// code is an ErrorCode, whose enum (the union generated clients match on) has exactly the
// codes of components.x-error-codes, and every code an operation lists is in it.
func errorCodeEnumProblems(doc *openapi3.T) []string {
	var problems []string
	ref := doc.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil || !ref.Value.Type.Is("string") || len(ref.Value.Enum) == 0 {
		return []string{"components.schemas.ErrorCode must be a string schema with an enum of the error codes"}
	}
	enum := map[string]bool{}
	for _, v := range ref.Value.Enum {
		code, ok := v.(string)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("ErrorCode's enum holds %v, not a code", v))
		case enum[code]:
			problems = append(problems, fmt.Sprintf("ErrorCode's enum lists %q twice", code))
		}
		enum[code] = true
	}

	if errSchema := doc.Components.Schemas["Error"]; errSchema == nil || errSchema.Value == nil ||
		errSchema.Value.Properties["error"] == nil || errSchema.Value.Properties["error"].Value.Properties["code"] == nil ||
		errSchema.Value.Properties["error"].Value.Properties["code"].Ref != errorCodeSchema {
		problems = append(problems, "the Error schema's error.code must be $ref "+errorCodeSchema)
	}

	table, err := api.ErrorCodes(doc)
	if err != nil {
		return append(problems, err.Error())
	}
	inTable := map[string]bool{}
	for _, row := range table {
		inTable[row.Code] = true
		if !enum[row.Code] {
			problems = append(problems, fmt.Sprintf("%q is in components.x-error-codes but not in ErrorCode's enum", row.Code))
		}
	}
	for code := range enum {
		if !inTable[code] {
			problems = append(problems, fmt.Sprintf("%q is in ErrorCode's enum but not in components.x-error-codes", code))
		}
	}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			codes, err := api.OperationErrorCodes(op)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", method, path, err))
				continue
			}
			for status, list := range codes {
				for _, code := range list {
					if !enum[code] {
						problems = append(problems, fmt.Sprintf("%s %s: x-error-codes[%s] names %q, which is not in ErrorCode's enum", method, path, status, code))
					}
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// TestErrorCodeEnum checks the document, then shows the check fails on each drift it is for:
// a code added to one list and not the other, either way, and an operation naming a code
// nobody declared.
func TestErrorCodeEnum(t *testing.T) {
	load := func(t *testing.T) *openapi3.T {
		t.Helper()
		doc, err := api.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	if problems := errorCodeEnumProblems(load(t)); len(problems) > 0 {
		t.Fatalf("add a new code to both components.x-error-codes and components.schemas.ErrorCode's enum:\n%s",
			strings.Join(problems, "\n"))
	}

	enumOf := func(doc *openapi3.T) *[]any { return &doc.Components.Schemas["ErrorCode"].Value.Enum }
	drifts := []struct {
		name   string
		change func(doc *openapi3.T)
		want   string
	}{
		{"a table code missing from the enum", func(doc *openapi3.T) {
			e := enumOf(doc)
			*e = slices.DeleteFunc(*e, func(v any) bool { return v == "out_of_stock" })
		}, `"out_of_stock" is in components.x-error-codes but not in ErrorCode's enum`},
		{"an enum code missing from the table", func(doc *openapi3.T) {
			e := enumOf(doc)
			*e = append(*e, "no_such_code")
		}, `"no_such_code" is in ErrorCode's enum but not in components.x-error-codes`},
		{"a code listed twice in the enum", func(doc *openapi3.T) {
			e := enumOf(doc)
			*e = append(*e, "internal")
		}, `ErrorCode's enum lists "internal" twice`},
		{"an operation naming an undeclared code", func(doc *openapi3.T) {
			op := doc.Paths.Value("/healthz").Get
			op.Extensions["x-error-codes"] = map[string]any{"500": []any{"internal", "no_such_code"}}
		}, `GET /healthz: x-error-codes[500] names "no_such_code", which is not in ErrorCode's enum`},
		{"an Error code that is a plain string", func(doc *openapi3.T) {
			code := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"]
			code.Ref = ""
		}, "the Error schema's error.code must be $ref " + errorCodeSchema},
	}
	for _, d := range drifts {
		doc := load(t)
		d.change(doc)
		if problems := errorCodeEnumProblems(doc); !slices.Contains(problems, d.want) {
			t.Errorf("%s: the check did not report %q; it reported %q", d.name, d.want, problems)
		}
	}
}

// TestOperationsDeclareSecurity requires every operation to say who may call it: bearerAuth,
// or `security: []` for a public one. Redocly's security-defined rule asks the same (make
// api-lint); this says it where the Go tests run, and keeps a public endpoint a decision.
func TestOperationsDeclareSecurity(t *testing.T) {
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Security) > 0 {
		t.Errorf("a document-wide security requirement hides which operations are public; declare it per operation")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security == nil {
				t.Errorf("%s %s: declares no security; add `security: [{bearerAuth: []}]` with x-roles, or `security: []` if it is public", method, path)
			}
		}
	}
}
