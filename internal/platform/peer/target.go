package peer

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// target is a parsed Options.Target: either fixed base URLs or one DNS name whose records
// are the instances (a Kubernetes headless Service answers with one record per pod).
type target struct {
	urls    []string // canonical "scheme://host[:port]", no trailing slash, so base+path is the request URL
	dnsHost string
	dnsPort string
}

// CheckTarget says what is wrong with a peer address (nil when nothing is), so the
// configuration is checked by the same rules the client applies.
func CheckTarget(s string) error {
	_, err := parseTarget(s)
	return err
}

// parseTarget is strict because the value comes from configuration and a typo should stop
// the process at start rather than send every call to a wrong place. Paths are refused
// because a base path would silently change every route; user info is refused so that
// credentials can never reach a log line through an address.
func parseTarget(s string) (target, error) {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) == 1 && parts[0] == "" {
		return target{}, fmt.Errorf("target is empty")
	}
	if len(parts) == 1 && strings.HasPrefix(strings.ToLower(parts[0]), "dns://") {
		return parseDNS(parts[0])
	}
	var t target
	for _, p := range parts {
		if p == "" {
			return target{}, fmt.Errorf("target %q has an empty entry", s)
		}
		u, err := parseBase(p)
		if err != nil {
			return target{}, err
		}
		if !slices.Contains(t.urls, u) {
			t.urls = append(t.urls, u)
		}
	}
	return t, nil
}

func parseBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("target entry %q is not a URL", s)
	}
	if u.Scheme == "dns" {
		return "", fmt.Errorf("target entry %q: a dns:// target must be the only entry", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("target entry %q: scheme must be http or https (or the whole target dns://name:port)", s)
	}
	if err := plainURL(u, s); err != nil {
		return "", err
	}
	host, err := checkHost(u.Hostname(), s)
	if err != nil {
		return "", err
	}
	if u.Port() != "" || strings.HasSuffix(u.Host, ":") {
		port, err := checkPort(u.Port(), s)
		if err != nil {
			return "", err
		}
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return (&url.URL{Scheme: u.Scheme, Host: host}).String(), nil
}

func parseDNS(s string) (target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "dns" {
		return target{}, fmt.Errorf("target %q is not a dns://name:port URL", s)
	}
	if err := plainURL(u, s); err != nil {
		return target{}, err
	}
	name, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return target{}, fmt.Errorf("target %q: want dns://name:port", s)
	}
	if name, err = checkHost(name, s); err != nil {
		return target{}, err
	}
	if port, err = checkPort(port, s); err != nil {
		return target{}, err
	}
	return target{dnsHost: name, dnsPort: port}, nil
}

// plainURL refuses every URL part a base address must not have.
func plainURL(u *url.URL, s string) error {
	switch {
	case u.Opaque != "" || u.Host == "":
		return fmt.Errorf("target entry %q has no host", s)
	case u.User != nil:
		return fmt.Errorf("target entry %q carries user info; the service token is configured separately", s)
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("target entry %q has a path; give only scheme, host and port", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("target entry %q has a query or fragment", s)
	}
	return nil
}

// checkHost accepts an IP address or a DNS name of letters, digits, '-', '_' and '.', and
// returns it in canonical form (IP addresses normalised, zone kept).
func checkHost(h, s string) (string, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String(), nil
	}
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return "", fmt.Errorf("target entry %q has an invalid host", s)
	}
	for _, c := range h {
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return "", fmt.Errorf("target entry %q has an invalid host", s)
		}
	}
	return strings.ToLower(h), nil
}

func checkPort(p, s string) (string, error) {
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("target entry %q has an invalid port", s)
	}
	return strconv.FormatUint(n, 10), nil
}

// hostURL is the base URL for one resolved record; IPv6 addresses get their brackets and a
// zone its escaping from net and net/url.
func hostURL(host, port string) string {
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}
