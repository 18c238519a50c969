package peer

// ParseTarget lets the external tests fuzz the Target parser directly; through New they
// could only see accept or reject, not what an accepted target turned into.
func ParseTarget(s string) (urls []string, dnsHost, dnsPort string, err error) {
	t, err := parseTarget(s)
	return t.urls, t.dnsHost, t.dnsPort, err
}
