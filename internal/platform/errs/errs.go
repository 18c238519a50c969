// Package errs holds the application error: a kind that decides the HTTP status and a stable
// string code that clients (and our own HTTP clients in the split shape) match on.
//
// Domain packages declare their sentinels with New; handlers and clients map kinds to statuses
// and back, so an error crosses a service boundary without losing its identity.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind groups codes by how a caller should react; it maps one-to-one to an HTTP status.
type Kind int

const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	NotFound
	Conflict
	Unprocessable
	TooLarge
	UnsupportedMedia
	TooManyRequests
	Unavailable
)

var kindStatus = map[Kind]int{
	Internal:         http.StatusInternalServerError,
	Invalid:          http.StatusBadRequest,
	Unauthorized:     http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	Conflict:         http.StatusConflict,
	Unprocessable:    http.StatusUnprocessableEntity,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	TooManyRequests:  http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
}

// HTTPStatus is the status a response carrying this kind uses.
func (k Kind) HTTPStatus() int { return kindStatus[k] }

// KindForStatus is the reverse mapping, used by HTTP clients of other modules.
func KindForStatus(status int) Kind {
	for k, s := range kindStatus {
		if s == status {
			return k
		}
	}
	if status >= 400 && status < 500 {
		return Invalid
	}
	return Internal
}

// Error is an error a client may see. Message is for people; Code is the contract.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is matches by code, so a sentinel matches a copy that carries different details or a
// message rebuilt from an HTTP response.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// New declares an error; domain packages use it for their sentinels.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// With returns a copy of e with details attached; the sentinel itself stays unchanged.
func (e *Error) With(details map[string]any) *Error {
	c := *e
	c.Details = details
	return &c
}

// Withf returns a copy of e with a more specific message.
func (e *Error) Withf(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Describe is the message with each bad field spelled out, for command-line output where
// there are no JSON details to read.
func (e *Error) Describe() string {
	fields, _ := e.Details["fields"].([]FieldError)
	if len(fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Field + " " + f.Reason
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// As returns the application error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// RetryAfterSeconds is the details key that tells a client how long to wait; the HTTP layer
// also sends it as a Retry-After header.
const RetryAfterSeconds = "retry_after_seconds"

// FieldError names one bad input field and says what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ErrValidation is the code for a request whose fields break the rules; details.fields lists them.
var ErrValidation = New(Invalid, "validation_failed", "some fields are invalid")

// Fields collects field errors while validating a request.
type Fields []FieldError

// Add records that field is bad for reason.
func (f *Fields) Add(field, reason string) { *f = append(*f, FieldError{Field: field, Reason: reason}) }

// Err is nil when no field was bad, else a validation error listing each one.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return ErrValidation.With(map[string]any{"fields": []FieldError(f)})
}
