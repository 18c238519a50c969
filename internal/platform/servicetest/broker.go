package servicetest

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// AMQPPrefix returns a new name prefix for a test's exchange and queues on the shared
// broker (MINIMART_AMQP_PREFIX), cleaned up as CleanBroker does.
func AMQPPrefix(t testing.TB, amqpURL string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "test" + hex.EncodeToString(b)
	CleanBroker(t, amqpURL, prefix)
	return prefix
}

// CleanBroker deletes, when the test ends, every queue and the exchange a minimart made
// under prefix, so test runs do not pile up durable queues on the shared broker.
func CleanBroker(t testing.TB, amqpURL, prefix string) {
	t.Cleanup(func() {
		out, err := exec.Command("rabbitmqctl", "-q", "list_queues", "name").Output()
		if err != nil {
			t.Logf("list queues: %v", err)
			return
		}
		conn, err := amqp.Dial(amqpURL)
		if err != nil {
			t.Logf("connect to clean up: %v", err)
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Logf("channel to clean up: %v", err)
			return
		}
		defer ch.Close()
		for _, name := range strings.Fields(string(out)) {
			if strings.HasPrefix(name, prefix+".") {
				if _, err := ch.QueueDelete(name, false, false, false); err != nil {
					t.Logf("delete queue %s: %v", name, err)
				}
			}
		}
		if err := ch.ExchangeDelete(prefix+".events", false, false); err != nil {
			t.Logf("delete exchange: %v", err)
		}
	})
}
