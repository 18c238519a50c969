package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/minimart/minimart/internal/platform/errs"
)

// Codes the web layer itself answers with; module codes live in their modules.
var (
	ErrInternal         = errs.New(errs.Internal, "internal", "internal error; quote the request id when reporting it")
	ErrRouteNotFound    = errs.New(errs.NotFound, "route_not_found", "no such endpoint")
	ErrMethodNotAllowed = errs.New(errs.Invalid, "method_not_allowed", "method not allowed on this endpoint")
	ErrBodyTooLarge     = errs.New(errs.TooLarge, "body_too_large", "request body is over the size limit")
	ErrInvalidJSON      = errs.New(errs.Invalid, "invalid_json", "request body is not valid JSON")
	ErrUnknownField     = errs.New(errs.Invalid, "unknown_field", "request body has a field this endpoint does not take")
	ErrWrongType        = errs.New(errs.Invalid, "wrong_type", "a field has the wrong JSON type")
	ErrEmptyBody        = errs.New(errs.Invalid, "empty_body", "request body is empty; a JSON object is expected")
	ErrUnsupportedMedia = errs.New(errs.UnsupportedMedia, "unsupported_media_type", "send the body as application/json")
	ErrInvalidParam     = errs.New(errs.Invalid, "invalid_parameter", "a path or query parameter is invalid")
)

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorPayload `json:"error"`
}

// ErrorPayload carries the stable code, a message for people and optional details.
type ErrorPayload struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// WriteError answers with err in the shared error format. An error that is not an
// application error is answered as what the request's classifiers (ClassifyErrors) make of
// it — a database that cannot be reached is 503 database_unavailable, logged at warn — or
// else logged with the request id as an error and answered as a bare 500, so internals
// never reach the client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	appErr, ok := errs.As(err)
	if !ok {
		if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
			// The client went away; nobody reads this answer.
			return
		}
		if appErr = classified(r.Context(), err); appErr != nil {
			noteClassified(r, appErr.Code, err)
		} else {
			LoggerFrom(r.Context()).ErrorContext(r.Context(), "request failed", slog.String("error", err.Error()))
			appErr = ErrInternal
		}
	}
	if secs, ok := appErr.Details[errs.RetryAfterSeconds].(int64); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	status := appErr.Kind.HTTPStatus()
	if appErr == ErrMethodNotAllowed || errors.Is(appErr, ErrMethodNotAllowed) {
		status = http.StatusMethodNotAllowed
	}
	WriteJSON(w, status, ErrorBody{Error: ErrorPayload{Code: appErr.Code, Message: appErr.Message, Details: appErr.Details}})
}

// WriteRawJSON answers with b, which is already JSON (e.g. from the cache), with its length
// (net/http would send a body larger than its buffer in chunks).
func WriteRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonTypeValue
	if len(b) > rawJSONLengthFree {
		h["Content-Length"] = []string{strconv.Itoa(len(b))}
	}
	w.WriteHeader(status)
	w.Write(b)
}

// rawJSONLengthFree is the body size up to which net/http sets Content-Length itself (the
// whole body is in its buffer when the handler returns), without an allocation of ours.
const rawJSONLengthFree = 2048

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonTypeValue
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	// Titles and messages are data: the client must see "<script>" as text, and the default
	// escaping to \u003c keeps it harmless if someone renders JSON into HTML anyway.
	if err := enc.Encode(v); err != nil {
		slog.Default().Debug("write response", slog.String("error", err.Error()))
	}
}
