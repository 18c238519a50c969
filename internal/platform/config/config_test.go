package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreTheEmbeddedShape(t *testing.T) {
	c, err := config.Load(env(nil), config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || c.Addr != ":8080" || c.DataDir != "./data" || c.AccessTokenTTL != 15*time.Minute || c.RedisURL != "" || c.AMQPURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = config.Load(env(map[string]string{"MINIMART_ADDR": ":1"}), config.Overrides{Addr: ":2", DataDir: "/tmp/x"})
	if err != nil || c.Addr != ":2" || c.DataDir != "/tmp/x" {
		t.Fatalf("flags must win over the environment: %+v %v", c, err)
	}
}

// The operator listener is on loopback unless told otherwise, can be turned off, and must
// be an address of its own.
func TestOpsAddr(t *testing.T) {
	for _, tt := range []struct {
		value, want, problem string
	}{
		{"", "127.0.0.1:9090", ""},
		{":9091", ":9091", ""},
		{"off", "", ""},
		{"9090", "", "is not host:port"},
		{"127.0.0.1:99999", "", "is not host:port"},
		{":8080", "", "the same as MINIMART_ADDR"},
	} {
		c, err := config.Load(env(map[string]string{"MINIMART_OPS_ADDR": tt.value}), config.Overrides{})
		if tt.problem == "" {
			if err != nil || c.OpsAddr != tt.want {
				t.Errorf("MINIMART_OPS_ADDR=%q: %q, %v; want %q", tt.value, c.OpsAddr, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "MINIMART_OPS_ADDR") || !strings.Contains(err.Error(), tt.problem) {
			t.Errorf("MINIMART_OPS_ADDR=%q: error %v, want one naming the variable and saying %q", tt.value, err, tt.problem)
		}
	}
}

func TestBadValuesNameTheVariableAndHideSecrets(t *testing.T) {
	const secret = "hunter2-topsecret"
	cases := []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"MINIMART_DB_URL": "postgres://u:" + secret + "@h/db"}, "MINIMART_DB_URL"},
		{map[string]string{"MINIMART_DB_URL": "mysql://u:" + secret + "@h:3306/db"}, "MINIMART_JWT_SECRET"},
		{map[string]string{"MINIMART_JWT_SECRET": "short-" + secret}, "MINIMART_JWT_SECRET"},
		{map[string]string{"MINIMART_REDIS_URL": "http://:" + secret + "@h"}, "MINIMART_REDIS_URL"},
		{map[string]string{"MINIMART_AMQP_URL": "::" + secret}, "MINIMART_AMQP_URL"},
		{map[string]string{"MINIMART_ACCESS_TOKEN_TTL": "soon"}, "MINIMART_ACCESS_TOKEN_TTL"},
		{map[string]string{"MINIMART_ACCESS_TOKEN_TTL": "1s"}, "MINIMART_ACCESS_TOKEN_TTL"},
		{map[string]string{"MINIMART_NODE_ID": "5000"}, "MINIMART_NODE_ID"},
		{map[string]string{"MINIMART_LOG_LEVEL": "loud"}, "MINIMART_LOG_LEVEL"},
		{map[string]string{"MINIMART_PASSWORD_COST": "99"}, "MINIMART_PASSWORD_COST"},
		{map[string]string{"MINIMART_WECHAT_SECRET": secret}, "MINIMART_WECHAT_APPID"},
		{map[string]string{"MINIMART_BOOTSTRAP_ADMIN": "maybe"}, "MINIMART_BOOTSTRAP_ADMIN"},
	}
	for _, c := range cases {
		t.Run(c.wantVar, func(t *testing.T) {
			_, err := config.Load(env(c.env), config.Overrides{})
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != c.wantVar {
				t.Fatalf("err = %v, want one naming %s", err, c.wantVar)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error repeats a secret: %v", err)
			}
		})
	}
}

func TestEveryVariableIsInTheREADME(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars {
		if !strings.Contains(string(readme), "`"+v.Name+"`") {
			t.Errorf("README does not document %s", v.Name)
		}
	}
}
