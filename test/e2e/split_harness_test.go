package e2e

// The harness of split_test.go: deploy/local/split.sh started as a child (two instances of
// each of the four services behind nginx), the processes it reports, what to kill and how to
// bring an instance back, and a cleanup that leaves no process, database, queue or cache key
// behind.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

const (
	splitStartTimeout = 120 * time.Second // split.sh: migrations, admin, demo catalog, 8 instances, nginx
	splitStopTimeout  = 20 * time.Second  // split.sh gives its children 10 s after SIGTERM
	// The shop's timings for the test (passed to every instance through split.sh).
	splitOrphanHoldAfter = 6 * time.Second
	splitPaymentQuery    = 2 * time.Second
)

// splitServices are the seed's four services and the modules each one serves, as split.sh
// runs them.
var splitServices = []struct {
	name    string
	modules []string
}{
	{"user", []string{"user"}},
	{"product", []string{"catalog", "inventory"}},
	{"order", []string{"order", "cart", "promotion"}},
	{"payment", []string{"payment"}},
}

// splitProc is one process split.sh started.
type splitProc struct {
	service  string
	instance int
	// reported is the pid split.sh printed; pid is the process that really serves (the same
	// one unless split.sh regresses: see realPID).
	reported, pid int
	addr          string
	// ops is the base URL of the instance's operator listener ("" for nginx).
	ops string
	exe string
	// env, args and dir are the process's own environment, command line and working
	// directory, read from /proc while it ran, so the test can start it again alike.
	env  []string
	args []string
	dir  string
	log  string
}

func (p *splitProc) String() string {
	return fmt.Sprintf("%s-%d (pid %d, %s)", p.service, p.instance, p.pid, p.addr)
}

// splitShop is a running split.
type splitShop struct {
	t         *testing.T
	base      string // nginx: http://127.0.0.1:<port>
	port      int
	dir       string // MINIMART_SPLIT_DIR
	prefix    string // databases, RabbitMQ names, Redis keys
	bin       string
	mysqlURL  string // MINIMART_TEST_MYSQL_URL
	amqpURL   string
	redisURL  string
	cmd       *exec.Cmd
	stdout    *syncBuffer
	stderr    *syncBuffer
	done      chan struct{}
	waitErr   error
	procs     map[string][]*splitProc // by service, instance 1 first
	nginx     *splitProc
	admin     credentials
	token     string // MINIMART_SERVICE_TOKEN from split.sh's secrets file
	staff     string // an admin's access token
	restarted []*restartedProc
}

type restartedProc struct {
	proc *splitProc
	cmd  *exec.Cmd
	done chan struct{}
}

// missingPrerequisite skips the test, or fails it when CI requires the service suites.
func missingPrerequisite(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv(servicetest.RequireEnv) == "1" {
		t.Fatalf(format+" (and %s=1)", append(args, servicetest.RequireEnv)...)
	}
	t.Skipf("SKIPPED the split suite: "+format, args...)
}

// splitBinary is the minimart split.sh runs: the suite's own binary when it is a plain
// build, else a plain build made here. Eight race-built processes on two cores are too slow
// to hold the timings under test; the race detector is covered by the in-process split tests.
func splitBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return binary
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	out := filepath.Join(t.TempDir(), "minimart")
	build := exec.Command("go", "build", "-o", out, "./cmd/minimart")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build (plain, for the split): %v\n%s", err, b)
	}
	return out
}

// freePortRange finds n consecutive loopback ports nobody listens on, below the kernel's
// ephemeral range so outgoing connections do not take them meanwhile.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		r, err := rand.Int(rand.Reader, big.NewInt(20000))
		if err != nil {
			t.Fatal(err)
		}
		base := 11000 + int(r.Int64())
		var lns []net.Listener
		ok := true
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
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
			return base
		}
	}
	t.Fatalf("found no %d consecutive free ports", n)
	return 0
}

var (
	procLine  = regexp.MustCompile(`(?m)^PROC (\S+) (\d+) (\d+) (\S+) (\S+)\s*$`)
	readyLine = regexp.MustCompile(`(?m)^READY (http://\S+)\s*$`)
)

// startSplit runs deploy/local/split.sh on a free port range with a fresh database prefix
// and waits for its READY line.
func startSplit(t *testing.T) *splitShop {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			missingPrerequisite(t, "nginx is not installed")
		}
	}
	// split.sh needs these to wait for the instances and to make the databases.
	for _, tool := range []string{"curl", "mysql"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingPrerequisite(t, "%s is not installed (split.sh uses it)", tool)
		}
	}
	s := &splitShop{t: t, mysqlURL: servicetest.MySQLURL(t), amqpURL: servicetest.AMQPURL(t), redisURL: servicetest.RedisURL(t),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{}), procs: map[string][]*splitProc{}}
	script, err := filepath.Abs("../../deploy/local/split.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("deploy/local/split.sh: %v", err)
	}
	s.bin = splitBinary(t)
	if s.bin, err = filepath.EvalSymlinks(s.bin); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	s.prefix = "e2esplit" + hex.EncodeToString(b)
	s.dir = t.TempDir()
	// nginx, 8 instances and their 8 operator listeners.
	s.port = freePortRange(t, 17)
	u, err := url.Parse(s.mysqlURL)
	if err != nil {
		t.Fatalf("%s: %v", servicetest.MySQLEnv, err)
	}
	u.Path, u.RawPath, u.RawQuery = "/", "", "" // split.sh wants the server, not a database

	// Cleanups run last-registered first: logs of a failure are shown, then every process
	// is stopped, then the databases, queues and keys they used are removed.
	s.cleanResources()
	t.Cleanup(s.stopAll)
	t.Cleanup(s.dumpLogsOnFailure)

	s.cmd = exec.Command("bash", script, strconv.Itoa(s.port))
	s.cmd.Env = childEnv(
		"SPLIT_FRESH=1", // the prefix is new, but this also checks the path a developer takes
		"SPLIT_RATELIMITS=0",
		"MINIMART_RATELIMITS=0", // the load test's buyers all come from 127.0.0.1 through nginx
		"MINIMART_BIN="+s.bin,
		"MINIMART_SPLIT_DIR="+s.dir,
		"MINIMART_SPLIT_DB_PREFIX="+s.prefix,
		"MINIMART_SPLIT_MYSQL="+u.String(),
		"MINIMART_SPLIT_AMQP_URL="+s.amqpURL,
		"MINIMART_SPLIT_REDIS_URL="+s.redisURL,
		"MINIMART_PASSWORD_COST=4",
		"MINIMART_SCHEDULE_INTERVAL=200ms",
		"MINIMART_PAYMENT_QUERY_AFTER="+splitPaymentQuery.String(),
		"MINIMART_ORPHAN_HOLD_AFTER="+splitOrphanHoldAfter.String(),
		"MINIMART_ORDER_PAY_TIMEOUT=30m",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	// Its own process group: the last resort of stopAll is to kill the whole group.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start split.sh: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()

	deadline := time.Now().Add(splitStartTimeout)
	for readyLine.FindStringSubmatch(s.stdout.String()) == nil {
		select {
		case <-s.done:
			t.Fatalf("split.sh exited before READY: %v (its output is below)", s.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("split.sh printed no READY line within %s (its output is below)", splitStartTimeout)
		}
	}
	out := s.stdout.String()
	s.base = readyLine.FindStringSubmatch(out)[1]
	if want := fmt.Sprintf("http://127.0.0.1:%d", s.port); s.base != want {
		t.Fatalf("READY %s, want %s", s.base, want)
	}
	m := adminPasswordLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("split.sh printed no admin password on its first run")
	}
	s.admin = credentials{Username: m[1], Password: m[2]}

	for _, m := range procLine.FindAllStringSubmatch(out, -1) {
		inst, _ := strconv.Atoi(m[2])
		reported, _ := strconv.Atoi(m[3])
		p := &splitProc{service: m[1], instance: inst, reported: reported, addr: m[4],
			log: filepath.Join(s.dir, fmt.Sprintf("%s-%d.log", m[1], inst))}
		if m[5] != "-" {
			p.ops = "http://" + m[5]
		}
		p.exe = s.bin
		if p.service == "nginx" {
			p.exe, _ = filepath.EvalSymlinks(nginx)
			p.log = filepath.Join(s.dir, "nginx.log")
			s.nginx = p
		} else {
			s.procs[p.service] = append(s.procs[p.service], p)
		}
		if p.pid, err = realPID(reported, p.exe); err != nil {
			t.Fatalf("PROC %s %d %d: %v", p.service, p.instance, reported, err)
		}
		if p.pid != reported {
			// An operator (or a test) signalling the printed pid would miss the process.
			t.Errorf("PROC %s %d printed pid %d, but the process is pid %d (a shell between them?)", p.service, p.instance, reported, p.pid)
		}
		if err := p.readProc(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	for _, svc := range splitServices {
		ps := s.procs[svc.name]
		if len(ps) != 2 || ps[0].instance != 1 || ps[1].instance != 2 {
			t.Fatalf("split.sh reported %d %s instances, want instances 1 and 2", len(ps), svc.name)
		}
		for _, p := range ps {
			if got := p.getenv("MINIMART_MODULES"); got != strings.Join(svc.modules, ",") {
				t.Fatalf("%s runs MINIMART_MODULES=%q, want %q", p, got, strings.Join(svc.modules, ","))
			}
			if p.ops == "" || "http://"+p.getenv("MINIMART_OPS_ADDR") != p.ops {
				t.Fatalf("%s reported the operator listener %q but runs MINIMART_OPS_ADDR=%q", p, p.ops, p.getenv("MINIMART_OPS_ADDR"))
			}
		}
	}
	if s.nginx == nil || s.nginx.addr != fmt.Sprintf("127.0.0.1:%d", s.port) {
		t.Fatalf("split.sh reported no nginx on port %d", s.port)
	}
	secrets, err := os.ReadFile(filepath.Join(s.dir, "secrets.env"))
	if err != nil {
		t.Fatalf("split.sh's secrets file: %v", err)
	}
	for _, line := range strings.Split(string(secrets), "\n") {
		if v, ok := strings.CutPrefix(line, "MINIMART_SERVICE_TOKEN="); ok {
			s.token = strings.TrimSpace(v)
		}
	}
	if len(s.token) < 32 || s.procs["order"][0].getenv("MINIMART_SERVICE_TOKEN") != s.token {
		t.Fatalf("the service token in secrets.env is not the one the instances run with")
	}
	return s
}

func (s *splitShop) output() string {
	return "--- split.sh stdout:\n" + s.stdout.String() + "--- split.sh stderr:\n" + s.stderr.String()
}

func (s *splitShop) proc(service string, instance int) *splitProc {
	return s.procs[service][instance-1]
}

// realPID is the process that runs exe: reported itself, or the nearest descendant that
// does. split.sh starts each instance through a shell function in the background; without
// its `exec` the pid it prints is the bash subshell whose child is the binary, and killing
// that would leave the instance running. startSplit fails the test if that comes back, and
// thanks to realPID the rest of the test still kills the right processes.
func realPID(reported int, exe string) (int, error) {
	children := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentPID(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	queue := []int{reported}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if runs(pid, exe) {
			return pid, nil
		}
		queue = append(queue, children[pid]...)
	}
	return 0, fmt.Errorf("neither pid %d nor any process below it runs %s", reported, exe)
}

// parentPID reads the parent from /proc/<pid>/stat ("pid (comm) state ppid …"; comm may
// hold spaces and parentheses, so the fields after the last ')' are the reliable ones).
func parentPID(pid int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// runs says pid is a live (not zombie) process running exe, which also guards against
// signalling a recycled pid.
func runs(pid int, exe string) bool {
	got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || got != exe {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && !bytes.HasPrefix(bytes.TrimSpace(b[i+1:]), []byte("Z"))
}

func (p *splitProc) alive() bool { return runs(p.pid, p.exe) }

// readProc records the process's environment, command line and working directory.
func (p *splitProc) readProc() error {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.pid))
	if err != nil {
		return err
	}
	args, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
	if err != nil {
		return err
	}
	p.env = strings.Split(strings.TrimRight(string(env), "\x00"), "\x00")
	p.args = strings.Split(strings.TrimRight(string(args), "\x00"), "\x00")
	p.dir, err = os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.pid))
	return err
}

func (p *splitProc) getenv(name string) string {
	for _, kv := range slices.Backward(p.env) {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// syscallKill is kill -9.
func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// waitGone waits until a killed instance is gone and its port refuses connections.
func (s *splitShop) waitGone(t *testing.T, p *splitProc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond)
		if err != nil && !p.alive() {
			return
		}
		if c != nil {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still running or listening 10 s after SIGKILL", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restart starts the instance again by hand, as an operator would: the same binary,
// arguments, environment and working directory, logging to the same file, on the same
// address. It waits until /readyz is 200.
func (s *splitShop) restart(t *testing.T, p *splitProc) {
	t.Helper()
	if p.alive() {
		t.Fatalf("%s is still running", p)
	}
	logf, err := os.OpenFile(p.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- restarted by the test at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env, cmd.Dir = p.env, p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart %s: %v", p, err)
	}
	r := &restartedProc{proc: p, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(r.done)
	}()
	s.restarted = append(s.restarted, r)
	p.pid = cmd.Process.Pid
	deadline := time.Now().Add(startTimeout)
	last := ""
	for {
		a := send(httpClient, "GET", "http://"+p.addr+"/readyz", "", nil, nil)
		if a.status == http.StatusOK {
			return
		}
		last = a.String()
		select {
		case <-r.done:
			t.Fatalf("restarted %s exited: %v (see %s)", p, cmd.ProcessState, p.log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted %s not ready within %s; last /readyz: %s", p, startTimeout, last)
		}
	}
}

// stopAll stops split.sh with SIGTERM (as a person with Ctrl-C would), then whatever of its
// processes outlived it, then, as a last resort, its whole process group; and the instances
// the test restarted itself.
func (s *splitShop) stopAll() {
	t := s.t
	for _, r := range s.restarted {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(splitStopTimeout):
			t.Errorf("split.sh still running %s after SIGTERM", splitStopTimeout)
		}
	}
	var left []*splitProc
	for _, ps := range s.procs {
		left = append(left, ps...)
	}
	if s.nginx != nil {
		left = append(left, s.nginx)
	}
	var outlived []string
	for _, p := range left {
		if p.alive() && !slices.ContainsFunc(s.restarted, func(r *restartedProc) bool { return r.proc == p }) {
			outlived = append(outlived, p.String())
			syscall.Kill(p.pid, syscall.SIGTERM)
		}
	}
	if len(outlived) > 0 {
		// split.sh promises that SIGTERM stops everything it started.
		t.Errorf("still running after split.sh stopped on SIGTERM (stopped now by the test): %s", strings.Join(outlived, ", "))
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range left {
		for p.alive() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if p.alive() {
			t.Errorf("%s did not stop after SIGTERM; killing it", p)
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	for _, r := range s.restarted {
		select {
		case <-r.done:
		case <-time.After(time.Until(deadline) + time.Second):
			t.Errorf("restarted %s did not stop after SIGTERM; killing it", r.proc)
			r.cmd.Process.Kill()
			<-r.done
		}
	}
	if s.cmd != nil && s.cmd.Process != nil {
		// Last resort: anything still in split.sh's process group.
		if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err == nil {
			t.Logf("NOTE: processes were left in split.sh's process group; killed them")
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			t.Errorf("split.sh did not exit even after SIGKILL to its group")
		}
	}
}

// cleanResources removes, when the test ends, the databases (the services' and any scratch
// one named after the prefix), RabbitMQ queues and exchange, and Redis keys under the prefix.
func (s *splitShop) cleanResources() {
	t := s.t
	servicetest.CleanBroker(t, s.amqpURL, s.prefix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sqldb.Open(ctx, s.mysqlURL, "")
		if err != nil {
			t.Errorf("connect to drop the split's databases: %v", err)
		} else {
			rows, err := db.Read().QueryContext(ctx, "SHOW DATABASES LIKE '"+s.prefix+"\\_%'")
			var names []string
			if err == nil {
				for rows.Next() {
					var n string
					if rows.Scan(&n) == nil {
						names = append(names, n)
					}
				}
				rows.Close()
			}
			for _, n := range names {
				if _, err := db.Write().ExecContext(ctx, "DROP DATABASE `"+n+"`"); err != nil {
					t.Errorf("drop database %s: %v", n, err)
				}
			}
			db.Close()
		}
		opts, err := redis.ParseURL(s.redisURL)
		if err != nil {
			t.Errorf("%s: %v", servicetest.RedisEnv, err)
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, s.prefix+":*", 1000).Result()
			if err != nil {
				t.Errorf("scan Redis keys under %s: %v", s.prefix, err)
				return
			}
			if len(keys) > 0 {
				if err := rdb.Del(ctx, keys...).Err(); err != nil {
					t.Errorf("delete Redis keys: %v", err)
				}
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	})
}

// dumpLogsOnFailure shows the end of every log of the split, so a CI failure can be read
// without the machine.
func (s *splitShop) dumpLogsOnFailure() {
	t := s.t
	if !t.Failed() {
		return
	}
	t.Logf("split state dir %s (prefix %s)\n%s", s.dir, s.prefix, s.output())
	logs, _ := filepath.Glob(filepath.Join(s.dir, "*.log"))
	logs = append(logs, filepath.Join(s.dir, "nginx", "access.log"))
	for _, path := range logs {
		t.Logf("--- %s (last lines but successful requests):\n%s", path, tailFile(path, 30))
	}
}

// routine is a log line of a request that went well; the tail of a log on failure leaves
// those out, so warnings and errors are not pushed out by a load's worth of them.
var routine = regexp.MustCompile(`"message":"http request".*"http.response.status_code":[1-4]\d\d,|"status":[1-4]\d\d,"bytes_sent".*"upstream_status":"[1-4]\d\d"`)

// tailFile is the last n lines of a file but routine ones (of its last 256 KiB).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	const window = 256 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		f.Seek(st.Size()-window, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := slices.DeleteFunc(strings.Split(strings.TrimRight(string(b), "\n"), "\n"), routine.MatchString)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// --- HTTP without t.Fatal, for load and for polling ---

// answer is one HTTP exchange; status 0 means no answer (err says why).
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

// code is the error code of Minimart's (or nginx's) error envelope.
func (a answer) code() string {
	var e apiError
	json.Unmarshal(a.body, &e)
	return e.Error.Code
}

func (a answer) decode(out any) error { return json.Unmarshal(a.body, out) }

// send makes one JSON request; headers may set Accept, Idempotency-Key, X-Request-ID.
func send(c *http.Client, method, url, token string, headers map[string]string, in any) answer {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return answer{err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return answer{err: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// poll calls check every interval until it returns true or timeout passes; then the test
// fails with what check last said.
func poll(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sendUntil repeats a request until it answers want (through nginx right after a fault a
// request may land on a dead instance or a breaker that is still open).
func sendUntil(t *testing.T, timeout time.Duration, want int, method, url, token string, headers map[string]string, in any) answer {
	t.Helper()
	var a answer
	poll(t, timeout, method+" "+url, func() (bool, string) {
		a = send(httpClient, method, url, token, headers, in)
		return a.status == want, a.String()
	})
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
