package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/platform/config"
)

const token = "0123456789abcdef0123456789abcdef"

// problems lists the variables a configuration error names, in order.
func problems(err error) []string {
	var vars []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var ce *config.Error
		if errors.As(err, &ce) {
			vars = append(vars, ce.Var)
		}
	}
	walk(err)
	return vars
}

func TestModules(t *testing.T) {
	product := map[string]string{"MINIMART_MODULES": "inventory, catalog", "MINIMART_SERVICE_TOKEN": token,
		"MINIMART_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/", "MINIMART_PEER_ORDER": "http://10.0.0.7:8080,http://10.0.0.8:8080",
		"MINIMART_PEER_USER": "http://10.0.0.9:8080"}
	c, err := config.Load(env(product), config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Modules, []string{"catalog", "inventory"}) || !c.Split() || !c.Serves("catalog") || c.Serves("order") {
		t.Fatalf("modules = %v, split = %v", c.Modules, c.Split())
	}
	if c.Peers["order"] != product["MINIMART_PEER_ORDER"] || c.Peers["user"] != product["MINIMART_PEER_USER"] || len(c.Peers) != 2 || c.ServiceToken != token {
		t.Fatalf("peers = %v", c.Peers)
	}

	all, err := config.Load(env(nil), config.Overrides{})
	if err != nil || !slices.Equal(all.Modules, config.Modules) || all.Split() {
		t.Fatalf("default: %v %v", all.Modules, err)
	}
	flag, err := config.Load(env(map[string]string{"MINIMART_MODULES": "user", "MINIMART_SERVICE_TOKEN": token,
		"MINIMART_AMQP_URL": "amqp://h/"}), config.Overrides{Modules: "user"})
	if err != nil || !slices.Equal(flag.Modules, []string{"user"}) {
		t.Fatalf("--modules: %v %v", flag.Modules, err)
	}
	dns, err := config.Load(env(map[string]string{"MINIMART_MODULES": "payment", "MINIMART_SERVICE_TOKEN": token,
		"MINIMART_AMQP_URL": "amqp://h/", "MINIMART_PEER_ORDER": "dns://order-headless:8080", "MINIMART_PEER_USER": "https://user:8443"}), config.Overrides{})
	if err != nil || dns.Peers["order"] != "dns://order-headless:8080" {
		t.Fatalf("dns peer: %v %v", dns.Peers, err)
	}
}

func TestBadSplitsListEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"unknown and repeated modules", map[string]string{"MINIMART_MODULES": "catalog,shipping,catalog,inventory", "MINIMART_SERVICE_TOKEN": token,
			"MINIMART_AMQP_URL": "amqp://h/", "MINIMART_PEER_ORDER": "http://o:1", "MINIMART_PEER_USER": "http://u:1"}, []string{"MINIMART_MODULES", "MINIMART_MODULES"}},
		{"no module", map[string]string{"MINIMART_MODULES": " , ", "MINIMART_SERVICE_TOKEN": token, "MINIMART_AMQP_URL": "amqp://h/"},
			[]string{"MINIMART_MODULES"}},
		// Order alone: four peers missing, no token, no broker.
		{"order alone with nothing else", map[string]string{"MINIMART_MODULES": "order"},
			[]string{"MINIMART_PEER_CATALOG", "MINIMART_PEER_INVENTORY", "MINIMART_PEER_USER", "MINIMART_PEER_CART", "MINIMART_SERVICE_TOKEN", "MINIMART_AMQP_URL"}},
		{"a module both here and a peer", map[string]string{"MINIMART_MODULES": "catalog,inventory", "MINIMART_PEER_CATALOG": "http://c:1",
			"MINIMART_PEER_ORDER": "http://o:1", "MINIMART_PEER_USER": "http://u:1", "MINIMART_SERVICE_TOKEN": token, "MINIMART_AMQP_URL": "amqp://h/"}, []string{"MINIMART_PEER_CATALOG"}},
		{"the in-process bus with a remote module", map[string]string{"MINIMART_MODULES": "user", "MINIMART_SERVICE_TOKEN": token},
			[]string{"MINIMART_AMQP_URL"}},
		{"a short token", map[string]string{"MINIMART_MODULES": "user", "MINIMART_SERVICE_TOKEN": "short", "MINIMART_AMQP_URL": "amqp://h/"},
			[]string{"MINIMART_SERVICE_TOKEN"}},
		{"bad peer addresses", map[string]string{"MINIMART_MODULES": "payment", "MINIMART_SERVICE_TOKEN": token, "MINIMART_AMQP_URL": "amqp://h/",
			"MINIMART_PEER_ORDER": "ftp://o:1", "MINIMART_PEER_USER": "dns://user"}, []string{"MINIMART_PEER_USER", "MINIMART_PEER_ORDER"}},
		// Catalog and inventory call no user port, but their staff endpoints check staff
		// accounts in the user module: said once, like any other missing peer.
		{"product without the user module", map[string]string{"MINIMART_MODULES": "catalog,inventory", "MINIMART_SERVICE_TOKEN": token,
			"MINIMART_AMQP_URL": "amqp://h/", "MINIMART_PEER_ORDER": "http://o:1"}, []string{"MINIMART_PEER_USER"}},
		{"a node id past 1023", map[string]string{"MINIMART_NODE_ID": "1000", "MINIMART_NODE_ID_OFFSET": "100"}, []string{"MINIMART_NODE_ID_OFFSET"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Load(env(c.env), config.Overrides{})
			if got := problems(err); !slices.Equal(got, c.want) {
				t.Fatalf("problems = %v, want %v (%v)", got, c.want, err)
			}
			if strings.Contains(fmtErr(err), token) {
				t.Fatalf("error repeats the service token: %v", err)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
