package app

import (
	"net"
	"testing"
)

// The shop's own address, used for notify URLs and the sandbox cashier when
// MINIMART_PUBLIC_URL is not set, is https when the server speaks TLS itself.
func TestDefaultPublicURLFollowsTLS(t *testing.T) {
	cases := []struct{ got, want string }{
		{defaultPublicURL(":8080", false), "http://127.0.0.1:8080"},
		{defaultPublicURL(":8443", true), "https://127.0.0.1:8443"},
		{defaultPublicURL("0.0.0.0:0", true), "https://127.0.0.1:8080"},
		{listenURL(&net.TCPAddr{IP: net.IPv4zero, Port: 8443}, true), "https://127.0.0.1:8443"},
		{listenURL(&net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 9000}, false), "http://10.0.0.5:9000"},
		{listenURL(&net.TCPAddr{IP: net.ParseIP("::1"), Port: 443}, true), "https://[::1]:443"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}
