// Package stocksync keeps stock in step with an outside system (an ERP, a warehouse) that
// publishes inventory_update messages to RabbitMQ. It is the seed's inventory sync
// without its flaws: messages are parsed as strict JSON (never evaluated), acknowledged
// only after the change committed, refused messages are kept in a dead-letter queue with
// the reason, and versions make duplicates and reorderings harmless.
//
// A message is a JSON object of at most MaxMessageSize bytes:
//
//	{"product_id": 1, "new_inventory": 42}        the seed's form: a product with one SKU
//	{"sku_id": "2124…", "new_inventory": 42, "version": 17, "source": "erp"}
//	{"sku_code": "HW-1", "delta": -3, "updated_at": "2026-01-24T08:30:00+08:00"}
//
// It names the SKU by exactly one of sku_id, sku_code or product_id (ids as JSON numbers
// or strings of digits), and carries exactly one of new_inventory (0–100000000, the stock
// available for sale; reserved and sold stock are kept) or delta (non-zero). version (an
// integer, ≥ 0, number or string) and updated_at (RFC 3339) order a SKU's updates: one
// not newer than the last applied is stale and ignored. source (at most 64 characters)
// names the sender in the stock ledger. Unknown fields are ignored, so senders may add
// some; null counts as absent; a known field with the wrong type refuses the message.
package stocksync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/ids"
)

// MaxMessageSize bounds a message body; a larger one is refused unread.
const MaxMessageSize = 64 << 10

// Update is a parsed inventory_update message. Its JSON form is a valid message that
// parses back to the same Update.
type Update struct {
	ProductID    ids.ID     `json:"product_id,omitempty"`
	SKUID        ids.ID     `json:"sku_id,omitempty"`
	SKUCode      string     `json:"sku_code,omitempty"`
	NewInventory *int64     `json:"new_inventory,omitempty"`
	Delta        int64      `json:"delta,omitempty"`
	Version      *int64     `json:"version,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
	Source       string     `json:"source,omitempty"`
}

// Input is the update as inventory's Sync takes it.
func (u Update) Input() inventory.SyncUpdate {
	return inventory.SyncUpdate{SKUID: u.SKUID, SKUCode: u.SKUCode, ProductID: u.ProductID, Set: u.NewInventory,
		Delta: u.Delta, Version: u.Version, UpdatedAt: u.UpdatedAt, Source: u.Source}
}

// LogValue shows the fields that are set.
func (u Update) LogValue() slog.Value {
	var as []slog.Attr
	if u.ProductID != 0 {
		as = append(as, slog.String("product_id", u.ProductID.String()))
	}
	if u.SKUID != 0 {
		as = append(as, slog.String("sku_id", u.SKUID.String()))
	}
	if u.SKUCode != "" {
		as = append(as, slog.String("sku_code", u.SKUCode))
	}
	if u.NewInventory != nil {
		as = append(as, slog.Int64("new_inventory", *u.NewInventory))
	}
	if u.Delta != 0 {
		as = append(as, slog.Int64("delta", u.Delta))
	}
	if u.Version != nil {
		as = append(as, slog.Int64("version", *u.Version))
	}
	if u.UpdatedAt != nil {
		as = append(as, slog.Time("updated_at", *u.UpdatedAt))
	}
	if u.Source != "" {
		as = append(as, slog.String("source", u.Source))
	}
	return slog.GroupValue(as...)
}

// Problem is one thing wrong with a message; Field is empty when it concerns the whole
// message.
type Problem struct {
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ParseError says why a message is not a valid inventory update, listing every problem.
type ParseError struct {
	Problems []Problem
}

func (e *ParseError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Field == "" {
			parts[i] = p.Reason
		} else {
			parts[i] = p.Field + ": " + p.Reason
		}
	}
	return "invalid inventory_update message: " + strings.Join(parts, "; ")
}

type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// fields are the keys Parse reads, in the order problems are reported.
var fields = []string{"product_id", "sku_id", "sku_code", "new_inventory", "delta", "version", "updated_at", "source"}

func known(key string) bool {
	for _, f := range fields {
		if f == key {
			return true
		}
	}
	return false
}

// Parse reads one message body. It never panics; an error is a *ParseError that names
// each bad field and says what is wrong with it.
func Parse(body []byte) (Update, error) {
	var ps problems
	switch {
	case len(body) == 0:
		ps.add("", "the message is empty; want a JSON object such as {\"product_id\": 1, \"new_inventory\": 42}")
	case len(body) > MaxMessageSize:
		ps.add("", "the message is %d bytes; at most %d are accepted", len(body), MaxMessageSize)
	}
	if len(ps) > 0 {
		return Update{}, &ParseError{Problems: ps}
	}
	raw, err := object(body)
	if err != nil {
		ps.add("", "%s", err)
		return Update{}, &ParseError{Problems: ps}
	}
	var u Update
	if v, ok := raw["product_id"]; ok {
		u.ProductID = id(&ps, "product_id", v)
	}
	if v, ok := raw["sku_id"]; ok {
		u.SKUID = id(&ps, "sku_id", v)
	}
	if v, ok := raw["sku_code"]; ok {
		if s, ok := str(&ps, "sku_code", v); ok {
			switch n := utf8.RuneCountInString(s); {
			case n == 0:
				ps.add("sku_code", "must not be empty")
			case n > inventory.MaxSKUCode:
				ps.add("sku_code", "must be at most %d characters, got %d", inventory.MaxSKUCode, n)
			default:
				u.SKUCode = s
			}
		}
	}
	if v, ok := raw["new_inventory"]; ok {
		if n, ok := integer(&ps, "new_inventory", v, false); ok {
			if n < 0 || n > inventory.MaxStock {
				ps.add("new_inventory", "must be between 0 and %d, got %d", inventory.MaxStock, n)
			} else {
				u.NewInventory = &n
			}
		}
	}
	if v, ok := raw["delta"]; ok {
		if n, ok := integer(&ps, "delta", v, false); ok {
			if n == 0 || n < -inventory.MaxStock || n > inventory.MaxStock {
				ps.add("delta", "must be a non-zero number between -%d and %d, got %d", inventory.MaxStock, inventory.MaxStock, n)
			} else {
				u.Delta = n
			}
		}
	}
	if v, ok := raw["version"]; ok {
		if n, ok := integer(&ps, "version", v, true); ok {
			if n < 0 {
				ps.add("version", "must not be negative, got %d", n)
			} else {
				u.Version = &n
			}
		}
	}
	if v, ok := raw["updated_at"]; ok {
		if s, ok := str(&ps, "updated_at", v); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			switch {
			case err != nil:
				ps.add("updated_at", "must be an RFC 3339 time such as 2026-01-24T08:30:00+08:00, got %s", quote(s))
			case t.UTC().Year() < 1970 || t.UTC().Year() > 9999:
				ps.add("updated_at", "must be a time between 1970 and 9999, got %s", quote(s))
			default:
				t = t.UTC()
				u.UpdatedAt = &t
			}
		}
	}
	if v, ok := raw["source"]; ok {
		if s, ok := str(&ps, "source", v); ok {
			if why := inventory.ValidSyncSource(s); why != "" {
				ps.add("source", "%s", why)
			} else {
				u.Source = s
			}
		}
	}
	// What the message names and what it does. A field counts as given whatever its value,
	// so that a bad value is reported once, not also as a missing field.
	present := func(k string) bool { v, ok := raw[k]; return ok && !isNull(v) }
	named := 0
	for _, k := range []string{"product_id", "sku_id", "sku_code"} {
		if present(k) {
			named++
		}
	}
	switch {
	case named == 0:
		ps.add("sku_id", "is required: name the SKU by sku_id or sku_code (or product_id for a product with a single SKU)")
	case named > 1:
		ps.add("sku_id", "name the SKU in one way only: give one of sku_id, sku_code and product_id")
	}
	switch {
	case !present("new_inventory") && !present("delta"):
		ps.add("new_inventory", "is required: give new_inventory (the stock available for sale) or delta (a change to it)")
	case present("new_inventory") && present("delta"):
		ps.add("delta", "give new_inventory or delta, not both")
	}
	if len(ps) > 0 {
		return Update{}, &ParseError{Problems: ps}
	}
	return u, nil
}

// object reads body as one JSON object and returns the known fields that are not null,
// refusing a known field given twice.
func object(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("the message is not valid JSON: %s", jsonError(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("the message must be a JSON object, not %s", kind(tok))
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the message is not valid JSON: %s", jsonError(err))
		}
		key, _ := tok.(string) // inside an object the decoder yields string keys only
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the message is not valid JSON: %s", jsonError(err))
		}
		if !known(key) {
			continue // forward compatible: senders may add fields
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("field %s appears more than once", key)
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("the message is not valid JSON: %s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the message has more data after its JSON object; send one object per message")
	}
	for k, v := range out {
		if isNull(v) {
			delete(out, k)
		}
	}
	return out, nil
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

func jsonError(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return err.Error()
}

// kind names the JSON type of a token or raw value, for messages.
func kind(v any) string {
	switch v := v.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case json.RawMessage:
		if len(v) == 0 {
			return "nothing"
		}
		switch v[0] {
		case '"':
			return "a string"
		case '{':
			return "an object"
		case '[':
			return "an array"
		case 't', 'f':
			return "a boolean"
		case 'n':
			return "null"
		}
	}
	return "a number"
}

// quote shows a value in a message, shortened so a problem stays readable.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

func str(ps *problems, field string, v json.RawMessage) (string, bool) {
	if len(v) == 0 || v[0] != '"' {
		ps.add(field, "must be a string, not %s", kind(v))
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		ps.add(field, "must be a string: %s", err)
		return "", false
	}
	return s, true
}

// integer reads a JSON integer; with digits true also a string of decimal digits, for
// numbers beyond 2^53 that JavaScript senders cannot write as JSON numbers.
func integer(ps *problems, field string, v json.RawMessage, digits bool) (int64, bool) {
	var lit string
	switch {
	case len(v) > 0 && v[0] == '"' && digits:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			ps.add(field, "must be an integer: %s", err)
			return 0, false
		}
		if !isInteger(s) {
			ps.add(field, "must be an integer (a number or a string of digits), got %s", quote(s))
			return 0, false
		}
		lit = s
	case len(v) > 0 && v[0] == '"':
		ps.add(field, "must be a number, not a string")
		return 0, false
	case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
		lit = string(v)
		if !isInteger(lit) {
			ps.add(field, "must be a whole number, got %s", quote(lit))
			return 0, false
		}
	default:
		want := "a number"
		if digits {
			want = "a number or a string of digits"
		}
		ps.add(field, "must be %s, not %s", want, kind(v))
		return 0, false
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		ps.add(field, "%s is out of range (at most 19 digits, below 2^63)", quote(lit))
		return 0, false
	}
	return n, true
}

// isInteger reports whether s is an optional minus sign and one or more decimal digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func id(ps *problems, field string, v json.RawMessage) ids.ID {
	n, ok := integer(ps, field, v, true)
	if !ok {
		return 0
	}
	if n <= 0 {
		ps.add(field, "must be a positive id, got %d", n)
		return 0
	}
	return ids.ID(n)
}
