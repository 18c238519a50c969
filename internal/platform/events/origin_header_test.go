package events

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Message headers come from outside: what does not parse, or would not fit a request_id
// column, is dropped instead of reaching the outbox.
func TestOriginOfHeaders(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	cases := []struct {
		name string
		h    amqp.Table
		want Origin
	}{
		{"valid", amqp.Table{HeaderTraceParent: tp, HeaderRequestID: "req-1"}, Origin{TraceParent: tp, RequestID: "req-1"}},
		{"none", amqp.Table{}, Origin{}},
		{"malformed traceparent", amqp.Table{HeaderTraceParent: "00-zz-" + strings.Repeat("9", 80), HeaderRequestID: "req-2"}, Origin{RequestID: "req-2"}},
		{"request id too long", amqp.Table{HeaderTraceParent: tp, HeaderRequestID: strings.Repeat("a", 65)}, Origin{TraceParent: tp}},
		{"request id not ASCII", amqp.Table{HeaderRequestID: "请求"}, Origin{}},
		{"not strings", amqp.Table{HeaderTraceParent: int64(1), HeaderRequestID: []byte("x")}, Origin{}},
	}
	for _, c := range cases {
		if got := originOf(c.h); got != c.want {
			t.Errorf("%s: originOf = %+v, want %+v", c.name, got, c.want)
		}
	}
}
