package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Decode reads one JSON object from the request body into dst. It refuses unknown fields,
// wrong types, trailing data and bodies over the limit, each with its own stable code, so
// a client always learns exactly what to fix.
func Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ErrUnsupportedMedia
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return ErrBodyTooLarge
		}
		return ErrInvalidJSON.Withf("request body must hold a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return ErrEmptyBody
	case errors.As(err, &maxErr):
		return ErrBodyTooLarge.Withf("request body is over the %d-byte limit", maxErr.Limit)
	case errors.As(err, &syntaxErr):
		return ErrInvalidJSON.Withf("request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrInvalidJSON.Withf("request body ends in the middle of a JSON value")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return ErrWrongType.Withf("request body must be a JSON object, not %s", typeErr.Value)
		}
		return ErrWrongType.Withf("field %q must be %s, not %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value).
			With(map[string]any{"fields": []errs.FieldError{{Field: field, Reason: "wrong type: " + typeErr.Value}}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields; this prefix is its documented text.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return ErrUnknownField.Withf("field %q is not accepted here", name).
			With(map[string]any{"fields": []errs.FieldError{{Field: name, Reason: "unknown field"}}})
	default:
		// Errors from a field's own UnmarshalJSON (e.g. an id that is not a number).
		return ErrWrongType.Withf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return fmt.Sprintf("a number (%s)", goKind)
	}
}

// PathID reads the path value name (e.g. "id" of "/orders/{id}") as an id; anything else
// is a 400 invalid_parameter naming it.
func PathID(r *http.Request, name string) (ids.ID, error) {
	id, err := ids.Parse(r.PathValue(name))
	if err != nil {
		return 0, ErrInvalidParam.Withf("%s %q in the path is not a valid id", name, r.PathValue(name))
	}
	return id, nil
}
