// Package servicetest finds the real MariaDB, Redis and RabbitMQ that service-backed tests
// run against. Without the variables the tests skip and say so; with
// MINIMART_REQUIRE_SERVICES=1 (as CI sets it) a missing service fails the test instead.
package servicetest

import (
	"os"
	"testing"
)

const (
	MySQLEnv   = "MINIMART_TEST_MYSQL_URL"
	RedisEnv   = "MINIMART_TEST_REDIS_URL"
	AMQPEnv    = "MINIMART_TEST_AMQP_URL"
	RequireEnv = "MINIMART_REQUIRE_SERVICES"
)

func lookup(t testing.TB, env, what string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is not set but %s=1: the %s suite must run", env, RequireEnv, what)
	}
	t.Skipf("SKIPPED %s suite: set %s to run it", what, env)
	return ""
}

// MySQLURL is the server URL for MariaDB tests (mysql://user:pass@host:port/db).
func MySQLURL(t testing.TB) string { return lookup(t, MySQLEnv, "MariaDB") }

// RedisURL is the Redis URL for cache tests.
func RedisURL(t testing.TB) string { return lookup(t, RedisEnv, "Redis") }

// AMQPURL is the RabbitMQ URL for broker tests.
func AMQPURL(t testing.TB) string { return lookup(t, AMQPEnv, "RabbitMQ") }
