package main

// The split group's processes and servers: deploy/local/split.sh (the seed's four services,
// two instances each, behind nginx), its output, and the run's names on MariaDB, Redis and
// RabbitMQ, removed at the end.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// splitServices are split.sh's services, in its start order.
var splitServices = []string{"user", "product", "order", "payment"}

// splitInstance is one PROC line of split.sh: a minimart instance or nginx.
type splitInstance struct {
	service string // user, product, order, payment or nginx
	n       int    // 1 or 2
	pid     int
	addr    string // 127.0.0.1:PORT
	ops     string // its operator listener's 127.0.0.1:PORT; "" for nginx
}

func (in splitInstance) name() string { return fmt.Sprintf("%s-%d", in.service, in.n) }
func (in splitInstance) base() string { return "http://" + in.addr }

// opsBase is the base URL of the instance's operator listener (/metrics).
func (in splitInstance) opsBase() string { return "http://" + in.ops }

// splitOutput is what split.sh printed for programs: the PROC lines and, once everything
// answers, READY with nginx's URL ("" before that).
type splitOutput struct {
	procs []splitInstance
	ready string
}

// parseSplitOutput reads split.sh's standard output so far. Only complete lines count; a
// PROC line that does not read as "PROC <service> <instance> <pid> <addr> <ops-addr>" (the
// operator address "-" for nginx) is an error.
func parseSplitOutput(s string) (splitOutput, error) {
	var out splitOutput
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i+1]
	} else {
		s = ""
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "PROC "):
			f := strings.Fields(line)
			if len(f) != 6 {
				return out, fmt.Errorf("split.sh: unexpected line %q", line)
			}
			n, err1 := strconv.Atoi(f[2])
			pid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil || pid <= 0 || n <= 0 {
				return out, fmt.Errorf("split.sh: unexpected line %q", line)
			}
			if _, _, err := net.SplitHostPort(f[4]); err != nil {
				return out, fmt.Errorf("split.sh: unexpected address in %q", line)
			}
			ops := f[5]
			if ops == "-" {
				ops = ""
			} else if _, _, err := net.SplitHostPort(ops); err != nil {
				return out, fmt.Errorf("split.sh: unexpected operator address in %q", line)
			}
			out.procs = append(out.procs, splitInstance{service: f[1], n: n, pid: pid, addr: f[4], ops: ops})
		case strings.HasPrefix(line, "READY "):
			u := strings.TrimSpace(strings.TrimPrefix(line, "READY "))
			if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" || pu.Host == "" {
				return out, fmt.Errorf("split.sh: unexpected line %q", line)
			}
			out.ready = strings.TrimRight(u, "/")
		}
	}
	return out, nil
}

// splitShape is a running split.sh.
type splitShape struct {
	script *proc // the bash process; its children are in its process group
	url    string
	procs  []splitInstance
}

// instances are the minimart instances of service, in order.
func (s *splitShape) instances(service string) []splitInstance {
	var l []splitInstance
	for _, in := range s.procs {
		if in.service == service {
			l = append(l, in)
		}
	}
	return l
}

// minimarts are every minimart instance (not nginx).
func (s *splitShape) minimarts() []splitInstance {
	var l []splitInstance
	for _, in := range s.procs {
		if in.service != "nginx" {
			l = append(l, in)
		}
	}
	return l
}

// deadError is non-nil when split.sh or any process it started has ended.
func (s *splitShape) deadError() error {
	if err := s.script.deadError(); err != nil {
		return redactedError(err)
	}
	for _, in := range s.procs {
		if !pidAlive(in.pid) {
			return fmt.Errorf("split: %s (pid %d) has exited; see %s and the logs in its MINIMART_SPLIT_DIR\n%s",
				in.name(), in.pid, s.script.errPath, redactPasswords(tail(s.script.errPath)))
		}
	}
	return nil
}

// passwordRE matches what split.sh prints of the admin account it creates.
var passwordRE = regexp.MustCompile(`(?i)(password:?\s+)\S+`)

// redactPasswords hides the word after "password" (split.sh prints the admin password it
// made), since a failure's output ends up in the report.
func redactPasswords(s string) string { return passwordRE.ReplaceAllString(s, "${1}xxxxx") }

func redactedError(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(redactPasswords(err.Error()))
}

// stop ends split.sh with SIGTERM (its trap stops the instances and nginx, waiting up to
// 10 s for them), then kills whatever is left in its process group.
func (s *splitShape) stop() {
	p := s.script
	p.stopped = true
	if !p.exited() {
		_ = p.cmd.Process.Signal(sigTERM)
		select {
		case <-p.done:
		case <-time.After(25 * time.Second):
		}
	}
	killGroup(p.cmd.Process.Pid)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// startSplit runs script (deploy/local/split.sh) with nginx on port and waits for its READY
// line. Its output goes to dir/split.stdout and .stderr.
func (b *bench) startSplit(ctx context.Context, script string, port int, env []string) (*splitShape, error) {
	p := &proc{
		name:    "split.sh",
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
		outPath: filepath.Join(b.tmp, "split.stdout"),
		errPath: filepath.Join(b.tmp, "split.stderr"),
		done:    make(chan struct{}),
	}
	stdout, err := os.Create(p.outPath)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(p.errPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	p.cmd = exec.Command(script, strconv.Itoa(port))
	p.cmd.Dir = b.tmp
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	p.cmd.SysProcAttr = splitSysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", script, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	s := &splitShape{script: p}
	deadline := time.Now().Add(b.opts.readyTimeout)
	for {
		data, _ := os.ReadFile(p.outPath)
		out, err := parseSplitOutput(string(data))
		if err != nil {
			return s, err
		}
		if out.ready != "" {
			s.url, s.procs = out.ready, out.procs
			for _, svc := range splitServices {
				if len(s.instances(svc)) == 0 {
					return s, fmt.Errorf("split.sh printed READY without a PROC line for %s", svc)
				}
			}
			return s, nil
		}
		if err := p.deadError(); err != nil {
			return s, redactedError(err)
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("split.sh: no READY line within %s (--ready-timeout)\n%s", b.opts.readyTimeout, redactPasswords(p.output()))
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePortRange is a port p such that 127.0.0.1:p … p+n-1 are all free right now (split.sh
// puts nginx on p, the instances on the 8 ports after it and their operator listeners on the
// 8 after those).
func freePortRange(n int) (int, error) {
	for range 50 {
		p := 20000 + rand.IntN(30000)
		ok := true
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+i))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, errors.New("no range of free loopback ports found")
}

// mysqlServerRoot is a mysql:// URL without its database and parameters, as split.sh's
// MINIMART_SPLIT_MYSQL wants it: mysql://user[:password]@host[:port]/.
func mysqlServerRoot(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		return "", errors.New("want mysql://user[:password]@host[:port]/db")
	}
	if u.User == nil || u.User.Username() == "" {
		return "", errors.New("split.sh needs a user name in the MariaDB URL (mysql://user@host:3306/)")
	}
	root := url.URL{Scheme: "mysql", User: u.User, Host: u.Host, Path: "/"}
	return root.String(), nil
}

// databaseURL is serverURL with its database replaced by name (its parameters kept).
func databaseURL(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return serverURL
	}
	u.Path = "/" + name
	return u.String()
}

// readEnvFile reads KEY=value lines (split.sh's secrets.env).
func readEnvFile(path string) map[string]string {
	m := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			m[k] = v
		}
	}
	return m
}

// ---- RabbitMQ: queue depths and removal, by name prefix ----

// queueDepth is one queue's messages (ready + unacknowledged) and consumers.
type queueDepth struct {
	name      string
	messages  int
	consumers int
}

// pending is whether the queue holds messages that will still be handled: not a dead-letter
// queue (.dlq, drained only by hand), and consumed, or a .retry queue (whose messages go back
// to a consumed queue when they expire). A queue nobody consumes (split.sh's one-shot
// commands declare their node's search queue, for instance) never drains by itself.
func (q queueDepth) pending() bool {
	if q.messages == 0 || strings.HasSuffix(q.name, ".dlq") {
		return false
	}
	return q.consumers > 0 || strings.HasSuffix(q.name, ".retry")
}

// parseQueueDepths reads `rabbitmqctl -q list_queues name messages consumers`
// (tab-separated; newer versions print a header line, which is skipped) and keeps the queues
// named <prefix>.… for any of prefixes.
func parseQueueDepths(out string, prefixes ...string) []queueDepth {
	var l []queueDepth
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err1 := strconv.Atoi(f[1])
		c, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue // the header
		}
		for _, p := range prefixes {
			if strings.HasPrefix(f[0], p+".") {
				l = append(l, queueDepth{name: f[0], messages: n, consumers: c})
				break
			}
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].name < l[j].name })
	return l
}

var errNoRabbitmqctl = errors.New("rabbitmqctl is not on PATH")

// listQueues asks the local broker for the queues under prefixes, their depths and consumers.
func listQueues(ctx context.Context, prefixes ...string) ([]queueDepth, error) {
	bin, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		return nil, errNoRabbitmqctl
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-q", "list_queues", "name", "messages", "consumers").Output()
	if err != nil {
		return nil, fmt.Errorf("rabbitmqctl list_queues: %w", err)
	}
	return parseQueueDepths(string(out), prefixes...), nil
}

// waitQueuesDrained waits until no queue under prefixes has pending messages (see
// queueDepth.pending): the events so far have been handled.
func waitQueuesDrained(ctx context.Context, timeout time.Duration, prefixes ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		qs, err := listQueues(ctx, prefixes...)
		if err != nil {
			return err
		}
		var busy []string
		for _, q := range qs {
			if q.pending() {
				busy = append(busy, fmt.Sprintf("%s %d", q.name, q.messages))
			}
		}
		if len(busy) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("queues not drained within %s: %s", timeout, strings.Join(busy, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// deleteBrokerNames deletes the queues and the exchange <prefix>.events of each prefix. It
// runs on Ctrl-C too.
func deleteBrokerNames(amqpURL string, prefixes ...string) error {
	qs, err := listQueues(context.Background(), prefixes...)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range prefixes {
		var names []string
		for _, q := range qs {
			if strings.HasPrefix(q.name, p+".") {
				names = append(names, q.name)
			}
		}
		if err := deleteTopology(amqpURL, p+".events", names); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteRedisKeys unlinks every key that starts with one of prefixes.
func deleteRedisKeys(redisURL string, prefixes ...string) (int, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return 0, err
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	n := 0
	for _, p := range prefixes {
		var cursor uint64
		for {
			keys, next, err := rc.Scan(ctx, cursor, p+"*", 500).Result()
			if err != nil {
				return n, err
			}
			if len(keys) > 0 {
				if err := rc.Unlink(ctx, keys...).Err(); err != nil {
					return n, err
				}
				n += len(keys)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return n, nil
}
