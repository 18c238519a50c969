package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The docs page is built from the parsed document into these plain views, so the template
// holds no logic beyond loops; html/template escapes every value.
type (
	docsPage struct {
		Title, Version, Description string
		Groups                      []tagGroup
		Schemas                     []schemaView
		Codes                       []codeView
		CSS                         template.CSS
	}
	tagGroup struct {
		Name, Description string
		Ops               []opView
	}
	opView struct {
		Anchor, Method, Path, Summary, Description string
		Auth                                       string
		Params                                     []fieldView
		Body                                       *bodyView
		Responses                                  []respView
	}
	bodyView struct {
		Media, Schema string
		Fields        []fieldView
	}
	fieldView struct {
		Name, In, Type, Rules, Description string
		Required                           bool
	}
	respView struct {
		Status, Description string
		Media               []mediaView
		Headers             []string
		Codes               []string
	}
	mediaView  struct{ Type, Schema string }
	schemaView struct {
		Name, Description string
		Fields            []fieldView
	}
	codeView struct {
		Code, Status, Meaning string
	}
)

// docsCSS is the page's only style; its hash is allowed by the Content-Security-Policy, and
// nothing else (no script, no image, no outside resource) is.
const docsCSS = `
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem;color:#1d1d1f}
h1{margin-bottom:0}h2{border-bottom:2px solid #ddd;margin-top:2.5rem}
.desc{white-space:pre-line;color:#333}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.25rem 1rem .75rem}
.op h3{font:600 1rem ui-monospace,monospace}
.m{display:inline-block;min-width:4.2rem;padding:0 .4rem;border-radius:4px;color:#fff;text-align:center}
.GET{background:#2b6cb0}.POST{background:#2f855a}.PUT{background:#b7791f}.DELETE{background:#c53030}.PATCH{background:#6b46c1}
table{border-collapse:collapse;width:100%;margin:.25rem 0 .75rem}
th,td{border-bottom:1px solid #eee;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600;background:#fafafa}
code{font:13px ui-monospace,monospace;background:#f4f4f4;padding:0 .2rem;border-radius:3px}
.req{color:#c53030}.muted{color:#777}
`

var docsCSP = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return base64.StdEncoding.EncodeToString(sum[:])
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">Version {{.Version}} · OpenAPI document: <a href="/openapi.yaml">/openapi.yaml</a></p>
<p class="desc">{{.Description}}</p>
<nav><h2>Contents</h2><ul>
{{- range .Groups}}<li><a href="#tag-{{.Name}}">{{.Name}}</a>: {{range $i, $op := .Ops}}{{if $i}}, {{end}}<a href="#{{$op.Anchor}}">{{$op.Method}} {{$op.Path}}</a>{{end}}</li>{{end}}
<li><a href="#schemas">Schemas</a></li><li><a href="#error-codes">Error codes</a></li>
</ul></nav>
{{range .Groups}}
<section id="tag-{{.Name}}">
<h2>{{.Name}}</h2>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{range .Ops}}
<div class="op" id="{{.Anchor}}">
<h3><span class="m {{.Method}}">{{.Method}}</span> {{.Path}}</h3>
<p><strong>{{.Summary}}</strong></p>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
<p>Auth: {{.Auth}}</p>
{{if .Params}}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Rules</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Rules}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{with .Body}}<p>Request body ({{.Media}}): {{.Schema}}</p>
<table><tr><th>Field</th><th>Type</th><th>Rules</th><th>Description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Rules}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
<table><tr><th>Status</th><th>Body</th><th>Error codes</th><th>Description</th></tr>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{range .Media}}{{.Type}}{{if .Schema}}: <a href="#schema-{{.Schema}}">{{.Schema}}</a>{{end}}<br>{{else}}<span class="muted">none</span>{{end}}{{range .Headers}}header {{.}}<br>{{end}}</td><td>{{range .Codes}}<a href="#code-{{.}}"><code>{{.}}</code></a> {{end}}</td><td class="desc">{{.Description}}</td></tr>
{{end}}</table>
</div>
{{end}}
</section>
{{end}}
<section id="schemas">
<h2>Schemas</h2>
{{range .Schemas}}
<h3 id="schema-{{.Name}}">{{.Name}}</h3>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Rules</th><th>Description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Rules}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{end}}
</section>
<section id="error-codes">
<h2>Error codes</h2>
<p>Every error answers <code>{"error": {"code": "…", "message": "…", "details": {…}}}</code>; match on <code>code</code>.</p>
<table><tr><th>Code</th><th>Status</th><th>Meaning</th></tr>
{{range .Codes}}<tr id="code-{{.Code}}"><td><code>{{.Code}}</code></td><td>{{.Status}}</td><td>{{.Meaning}}</td></tr>
{{end}}</table>
</section>
</body>
</html>
`))

// RenderDocs renders the HTML documentation page of doc.
func RenderDocs(doc *openapi3.T) ([]byte, error) {
	page := docsPage{CSS: template.CSS(docsCSS)}
	if doc.Info != nil {
		page.Title, page.Version, page.Description = doc.Info.Title, doc.Info.Version, doc.Info.Description
	}

	groups := map[string]*tagGroup{}
	var order []string
	group := func(name string) *tagGroup {
		if g, ok := groups[name]; ok {
			return g
		}
		g := &tagGroup{Name: name}
		groups[name] = g
		order = append(order, name)
		return g
	}
	for _, t := range doc.Tags {
		group(t.Name).Description = t.Description
	}
	paths := doc.Paths.Keys()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			v, err := operationView(method, path, item, op)
			if err != nil {
				return nil, err
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := group(tag)
			g.Ops = append(g.Ops, v)
		}
	}
	for _, name := range order {
		if g := groups[name]; len(g.Ops) > 0 {
			page.Groups = append(page.Groups, *g)
		}
	}

	if doc.Components != nil {
		names := make([]string, 0, len(doc.Components.Schemas))
		for name := range doc.Components.Schemas {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s := doc.Components.Schemas[name].Value
			page.Schemas = append(page.Schemas, schemaView{Name: name, Description: s.Description, Fields: fields(s)})
		}
		codes, err := ErrorCodes(doc)
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			statuses := make([]string, len(c.Statuses))
			for i, n := range c.Statuses {
				statuses[i] = strconv.Itoa(n)
			}
			page.Codes = append(page.Codes, codeView{Code: c.Code, Status: strings.Join(statuses, ", "), Meaning: c.Meaning})
		}
	}

	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func operationView(method, path string, item *openapi3.PathItem, op *openapi3.Operation) (opView, error) {
	v := opView{Anchor: op.OperationID, Method: method, Path: path, Summary: op.Summary, Description: op.Description, Auth: "none"}
	if v.Anchor == "" {
		v.Anchor = strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(path)
	}
	if op.Security != nil && len(*op.Security) > 0 {
		v.Auth = "Authorization: Bearer <access token>"
		if roles, ok := op.Extensions["x-roles"].([]any); ok && len(roles) > 0 {
			v.Auth += " — " + joinAny(roles, " or ") + " only"
		}
	}
	for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if p.Value == nil {
			continue
		}
		f := fieldView{Name: p.Value.Name, In: p.Value.In, Required: p.Value.Required, Description: p.Value.Description}
		if p.Value.Schema != nil {
			f.Type, f.Rules = typeOf(p.Value.Schema), rules(p.Value.Schema.Value)
			if f.Description == "" {
				f.Description = p.Value.Schema.Value.Description
			}
		}
		v.Params = append(v.Params, f)
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		// One media type per body in this API: the first, in a stable order.
		if media := sortedKeys(op.RequestBody.Value.Content); len(media) > 0 {
			mt := op.RequestBody.Value.Content[media[0]]
			b := &bodyView{Media: media[0]}
			if mt.Schema != nil {
				b.Schema = typeOf(mt.Schema)
				b.Fields = fields(mt.Schema.Value)
			}
			v.Body = b
		}
	}
	codes, err := OperationErrorCodes(op)
	if err != nil {
		return opView{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	statuses := op.Responses.Keys()
	sort.Strings(statuses)
	for _, status := range statuses {
		r := op.Responses.Value(status).Value
		if r == nil {
			continue
		}
		rv := respView{Status: status, Codes: codes[status]}
		if r.Description != nil {
			rv.Description = *r.Description
		}
		for _, media := range sortedKeys(r.Content) {
			mv := mediaView{Type: media}
			if s := r.Content[media].Schema; s != nil && s.Ref != "" {
				mv.Schema = refName(s.Ref)
			}
			rv.Media = append(rv.Media, mv)
		}
		rv.Headers = sortedKeys(r.Headers)
		v.Responses = append(v.Responses, rv)
	}
	return v, nil
}

// fields lists an object schema's properties: the required ones in the order the schema
// requires them, then the optional ones by name.
func fields(s *openapi3.Schema) []fieldView {
	if s == nil || len(s.Properties) == 0 {
		return nil
	}
	var out []fieldView
	for _, name := range s.Required {
		if p, ok := s.Properties[name]; ok {
			out = append(out, fieldOf(name, p, true))
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		if !slices.Contains(s.Required, name) {
			out = append(out, fieldOf(name, s.Properties[name], false))
		}
	}
	return out
}

func fieldOf(name string, p *openapi3.SchemaRef, required bool) fieldView {
	f := fieldView{Name: name, Required: required, Type: typeOf(p)}
	if p.Value != nil {
		f.Rules, f.Description = rules(p.Value), p.Value.Description
	}
	return f
}

func typeOf(ref *openapi3.SchemaRef) string {
	if ref.Ref != "" {
		return refName(ref.Ref)
	}
	s := ref.Value
	if s == nil || s.Type == nil {
		return "any"
	}
	t := strings.Join(s.Type.Slice(), " or ")
	switch {
	case s.Type.Is("array") && s.Items != nil:
		t = "array of " + typeOf(s.Items)
	case s.Type.Is("object") && s.AdditionalProperties.Schema != nil:
		t = "map of " + typeOf(s.AdditionalProperties.Schema)
	case s.Format != "":
		t += " (" + s.Format + ")"
	}
	return t
}

func rules(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	var r []string
	switch {
	case s.MaxLength != nil && s.MinLength > 0:
		r = append(r, fmt.Sprintf("%d–%d characters", s.MinLength, *s.MaxLength))
	case s.MaxLength != nil:
		r = append(r, fmt.Sprintf("at most %d characters", *s.MaxLength))
	case s.MinLength > 0:
		r = append(r, fmt.Sprintf("at least %d characters", s.MinLength))
	}
	if s.Pattern != "" {
		r = append(r, "pattern "+s.Pattern)
	}
	if len(s.Enum) > 0 {
		r = append(r, "one of "+joinAny(s.Enum, ", "))
	}
	if s.Min != nil {
		r = append(r, "minimum "+strconv.FormatFloat(*s.Min, 'f', -1, 64))
	}
	if s.Max != nil {
		r = append(r, "maximum "+strconv.FormatFloat(*s.Max, 'f', -1, 64))
	}
	if s.MaxItems != nil {
		r = append(r, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Default != nil {
		r = append(r, fmt.Sprintf("default %v", s.Default))
	}
	return strings.Join(r, "; ")
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func joinAny(vs []any, sep string) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, sep)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrorCode is one row of the document's table of stable error codes
// (components.x-error-codes).
type ErrorCode struct {
	Code string
	// Statuses are the HTTP statuses the code is answered with: one, written `status: 404`.
	// A code the server answers with several statuses (an inconsistency the document records
	// rather than hides) is written `status: [404, 409]`, and its meaning says which is when.
	Statuses []int
	Meaning  string
}

// ErrorCodes reads the table of every stable error code from doc.
func ErrorCodes(doc *openapi3.T) ([]ErrorCode, error) {
	if doc.Components == nil {
		return nil, nil
	}
	raw, ok := doc.Components.Extensions["x-error-codes"]
	if !ok {
		return nil, nil
	}
	rows, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("components.x-error-codes must be a list, not %T", raw)
	}
	out := make([]ErrorCode, 0, len(rows))
	for i, row := range rows {
		m, ok := row.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("components.x-error-codes[%d] must be an object", i)
		}
		code, _ := m["code"].(string)
		meaning, _ := m["meaning"].(string)
		statuses, ok := rowStatuses(m["status"])
		if code == "" || !ok || meaning == "" {
			return nil, fmt.Errorf("components.x-error-codes[%d] needs code, status (4xx/5xx, or a list of them) and meaning", i)
		}
		out = append(out, ErrorCode{Code: code, Statuses: statuses, Meaning: meaning})
	}
	return out, nil
}

// rowStatuses reads the status of an error-code row: one 4xx/5xx status, or a list of
// different ones.
func rowStatuses(raw any) ([]int, bool) {
	list, isList := raw.([]any)
	if !isList {
		list = []any{raw}
	}
	out := make([]int, 0, len(list))
	for _, v := range list {
		n, ok := v.(float64)
		if !ok || n != float64(int(n)) || n < 400 || n > 599 || slices.Contains(out, int(n)) {
			return nil, false
		}
		out = append(out, int(n))
	}
	return out, len(out) > 0
}

// OperationErrorCodes reads an operation's x-error-codes: for each error status, the codes
// the operation answers with it.
func OperationErrorCodes(op *openapi3.Operation) (map[string][]string, error) {
	raw, ok := op.Extensions["x-error-codes"]
	if !ok {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("x-error-codes must map a status to a list of codes, not %T", raw)
	}
	out := make(map[string][]string, len(m))
	for status, list := range m {
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("x-error-codes[%s] must be a list of codes", status)
		}
		for _, it := range items {
			code, ok := it.(string)
			if !ok || code == "" {
				return nil, fmt.Errorf("x-error-codes[%s] holds %v, not a code", status, it)
			}
			out[status] = append(out[status], code)
		}
	}
	return out, nil
}
