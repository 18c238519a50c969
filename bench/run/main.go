// Command run is the benchmark runner. It builds the real minimart binary and the bare
// baseline server, starts them on loopback, drives them from this process with
// bench/loadgen, and prints a Markdown section for docs/benchmarks.md:
//
//	go run ./bench/run --scenarios catalog --out /tmp/catalog.md
//
// Every scenario's throughput is reported as a ratio to the bare net/http handler measured
// immediately before it in the same run, because absolute numbers from a shared machine say
// little. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	scenarios    []string
	duration     time.Duration
	warmup       time.Duration
	concurrency  int
	out          string
	keep         bool
	readyTimeout time.Duration
	products     int
	minimartBin  string
	mysqlURL     string // orders group: MariaDB server ("" = not given)
	mysqlFrom    string // where mysqlURL came from: the flag or the environment variable
	flashStock   int
	// events group
	amqpURL          string // RabbitMQ ("" = not given)
	amqpFrom         string // where amqpURL came from
	eventsCount      int
	eventsRates      []float64
	eventsPublishers int
	// split group
	redisURL  string // Redis ("" = not given)
	redisFrom string // where redisURL came from
	// splitSlices: slices per side of each interleaved pair
	splitSlices int
	// soak group
	soakDuration time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench/run [flags]\n\nscenario groups:\n")
		for _, g := range groups {
			fmt.Fprintf(stderr, "  %-10s %s\n", g.name, g.about)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	scenarios := fs.String("scenarios", "catalog", "comma-separated scenario groups to run, in order")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each scenario")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent connections (one request in flight each)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown section to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (binaries, data, process output) and print its path")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", 2*time.Minute, "how long a server may take until GET /readyz is 200")
	fs.IntVar(&o.products, "products", 10000, "catalog group: products loaded by `minimart demo load`")
	fs.StringVar(&o.minimartBin, "minimart-bin", "", "benchmark this minimart binary (a release build, say) instead of building ./cmd/minimart")
	fs.StringVar(&o.mysqlURL, "mysql-url", "", "orders, events and split groups: MariaDB/MySQL server, mysql://user:pass@host:3306/db, on which fresh databases are created and dropped per run (default $"+mysqlURLEnv+"; neither: MariaDB rows skipped)")
	fs.IntVar(&o.flashStock, "flash-stock", 2000, "orders group: stock of the flash-sale SKU")
	fs.StringVar(&o.redisURL, "redis-url", "", "split group: Redis, redis://host:6379/0, whose keys under the run's prefixes are deleted afterwards (default $"+redisURLEnv+"; neither: the group is skipped)")
	fs.DurationVar(&o.soakDuration, "soak-duration", 10*time.Minute, "soak group: how long the half-capacity order load runs (sampled every 10s)")
	fs.IntVar(&o.splitSlices, "split-slices", 4, "split group: each pair (monolith, split) alternates in this many slices per side, sharing --warmup and --duration; 1: one row after the other")
	fs.StringVar(&o.amqpURL, "amqp-url", "", "events and split groups: RabbitMQ, amqp://user:pass@host:5672/vhost, on which an exchange and queues are created and deleted per run (default $"+amqpURLEnv+"; neither: the group is skipped)")
	fs.IntVar(&o.eventsCount, "events-count", 20000, "events group: events pre-written to the outbox for the relay row")
	rates := fs.String("events-rates", "200,1000", "events group: comma-separated write rates (events/s) of the lag rows; each runs only if the previous kept up")
	fs.IntVar(&o.eventsPublishers, "events-publishers", 100, "events group: goroutines (one confirm-mode channel each) of the raw-publish baseline; default: the relay's batch size, its in-flight depth")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.mysqlFrom = "--mysql-url"
	if o.mysqlURL == "" {
		o.mysqlURL, o.mysqlFrom = os.Getenv(mysqlURLEnv), mysqlURLEnv
	}
	if o.mysqlURL != "" && !strings.HasPrefix(o.mysqlURL, "mysql://") {
		return o, fmt.Errorf("%s: want mysql://user:pass@host:3306/db", o.mysqlFrom)
	}
	o.amqpFrom = "--amqp-url"
	if o.amqpURL == "" {
		o.amqpURL, o.amqpFrom = os.Getenv(amqpURLEnv), amqpURLEnv
	}
	if o.amqpURL != "" && !strings.HasPrefix(o.amqpURL, "amqp://") && !strings.HasPrefix(o.amqpURL, "amqps://") {
		return o, fmt.Errorf("%s: want amqp://user:pass@host:5672/", o.amqpFrom)
	}
	o.redisFrom = "--redis-url"
	if o.redisURL == "" {
		o.redisURL, o.redisFrom = os.Getenv(redisURLEnv), redisURLEnv
	}
	if o.redisURL != "" && !strings.HasPrefix(o.redisURL, "redis://") && !strings.HasPrefix(o.redisURL, "rediss://") {
		return o, fmt.Errorf("%s: want redis://host:6379/0", o.redisFrom)
	}
	for _, r := range strings.Split(*rates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return o, fmt.Errorf("--events-rates: %q is not a positive number", r)
		}
		o.eventsRates = append(o.eventsRates, v)
	}
	for _, name := range strings.Split(*scenarios, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if findGroup(name) == nil {
			var names []string
			for _, g := range groups {
				names = append(names, g.name)
			}
			return o, fmt.Errorf("unknown scenario group %q (have: %s)", name, strings.Join(names, ", "))
		}
		if !slices.Contains(o.scenarios, name) {
			o.scenarios = append(o.scenarios, name)
		}
	}
	switch {
	case len(o.scenarios) == 0:
		return o, errors.New("--scenarios names no group")
	case o.duration <= 0:
		return o, errors.New("--duration must be > 0")
	case o.warmup < 0:
		return o, errors.New("--warmup must be ≥ 0")
	case o.concurrency <= 0:
		return o, errors.New("--concurrency must be > 0")
	case o.products <= 0:
		return o, errors.New("--products must be > 0")
	case o.flashStock <= 0:
		return o, errors.New("--flash-stock must be > 0")
	case o.eventsCount <= 0:
		return o, errors.New("--events-count must be > 0")
	case len(o.eventsRates) == 0:
		return o, errors.New("--events-rates names no rate")
	case o.eventsPublishers <= 0:
		return o, errors.New("--events-publishers must be > 0")
	case o.splitSlices <= 0:
		return o, errors.New("--split-slices must be > 0")
	}
	return o, nil
}

// run is the whole runner; it returns the exit status: 0 when every group ran without a
// failed request, 1 when a group was skipped or failed or a scenario had errors (the report
// is still printed and written), 2 for a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench/run:", err)
		return 2
	}

	b, err := setup(ctx, o, stderr)
	if b != nil {
		defer b.cleanup()
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench/run:", err)
		return 1
	}

	rep := newReport(ctx, o, args, b.root)
	for _, name := range o.scenarios {
		g := findGroup(name)
		res := &groupResult{name: g.name, about: g.about}
		b.logf("== %s: %s", g.name, g.about)
		if err := g.run(ctx, b, res); err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				res.interrupted = true
			} else {
				res.err = err
			}
		}
		b.stopAll() // a group's servers never outlive it
		if res.err == nil && ctx.Err() == nil {
			if err := b.bare.deadError(); err != nil {
				res.err = err
			}
		}
		rep.groups = append(rep.groups, res)
		if ctx.Err() != nil {
			break
		}
	}

	md := rep.markdown(ctx.Err() != nil)
	fmt.Fprint(stdout, md)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench/run: interrupted; partial results above, --out not written")
		return 1
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "bench/run:", err)
			return 1
		}
		b.logf("wrote %s", o.out)
	}
	if !rep.ok() {
		fmt.Fprintln(stderr, "bench/run: some groups were skipped or failed, or requests failed (see the report)")
		return 1
	}
	return 0
}

// bench is what scenario groups work with: the built binaries, the temp dir, the running
// baseline server and the options.
type bench struct {
	opts     options
	root     string // module root, where `go build` runs
	tmp      string
	minimart string // built binaries
	bareBin  string
	bare     *proc // the baseline server, up for the whole run
	procs    []*proc
	log      io.Writer
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// setup finds the module, builds both binaries into a temp dir and starts the bare server.
// A non-nil bench is returned whenever there is something to clean up.
func setup(ctx context.Context, o options, log io.Writer) (*bench, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "minimart-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{opts: o, root: root, tmp: tmp, log: log}
	binDir := filepath.Join(tmp, "bin") + string(filepath.Separator)
	b.minimart = filepath.Join(binDir, "minimart")
	b.bareBin = filepath.Join(binDir, "bare")

	pkgs := []string{"./cmd/minimart", "./bench/bare"}
	if o.minimartBin != "" {
		if b.minimart, err = filepath.Abs(o.minimartBin); err != nil {
			return b, err
		}
		if st, err := os.Stat(b.minimart); err != nil || st.IsDir() {
			return b, fmt.Errorf("--minimart-bin %s: not a file (%v)", o.minimartBin, err)
		}
		pkgs = pkgs[1:]
	}
	b.logf("building %s into %s", strings.Join(pkgs, " and "), binDir)
	build := exec.CommandContext(ctx, "go", append([]string{"build", "-o", binDir}, pkgs...)...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build: %v\n%s", err, out)
	}

	addr, err := freeAddr()
	if err != nil {
		return b, err
	}
	bare, err := startProc("bare", b.bareBin, tmp, addr, []string{"--addr", addr}, childEnv())
	if err != nil {
		return b, err
	}
	b.procs = append(b.procs, bare)
	b.bare = bare
	if err := bare.waitReady(ctx, o.readyTimeout); err != nil {
		return b, err
	}
	b.logf("bare handler serving on %s", bare.base)
	return b, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the minimart module: run from the repository (go run ./bench/run)")
	}
	return filepath.Dir(gomod), nil
}

// startMinimart starts `minimart serve` on a free loopback port with dataDir as its data
// directory (and extra KEY=value settings) and waits until it is ready. It is stopped when
// the group ends.
func (b *bench) startMinimart(ctx context.Context, name, dataDir string, extra ...string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	opsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, b.minimart, b.tmp, addr, []string{"serve"}, b.minimartEnv(append([]string{
		"MINIMART_ADDR=" + addr,
		"MINIMART_OPS_ADDR=" + opsAddr,
		"MINIMART_DATA_DIR=" + dataDir,
	}, extra...)...))
	if err != nil {
		return nil, err
	}
	p.ops = "http://" + opsAddr
	b.procs = append(b.procs, p)
	if err := p.waitReady(ctx, b.opts.readyTimeout); err != nil {
		return nil, err
	}
	// Events left by `demo load` (index and cache updates) are applied before measuring,
	// so the numbers are of serving, not of catching up.
	settleStart := time.Now()
	if err := p.waitSettled(ctx, 15*time.Minute); err != nil {
		return nil, err
	}
	b.logf("%s serving on %s (data %s); outbox drained in %s", name, p.base, dataDir, time.Since(settleStart).Round(time.Second))
	return p, nil
}

// minimartEnv is the environment every minimart the runner starts gets, plus extra. The
// load comes from one address and a few buyers, far over any per-client rate limit.
func (b *bench) minimartEnv(extra ...string) []string {
	return childEnv(append([]string{
		"MINIMART_LOG_LEVEL=warn",
		"MINIMART_PASSWORD_COST=4",
		"MINIMART_BOOTSTRAP_ADMIN=0",
		"MINIMART_RATELIMITS=0",
	}, extra...)...)
}

// minimartCommand runs a one-shot minimart subcommand and returns its output.
func (b *bench) minimartCommand(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	return runCommand(ctx, timeout, b.tmp, b.minimart, args, b.minimartEnv())
}

// stopAll stops every server but the baseline.
func (b *bench) stopAll() {
	for _, p := range b.procs {
		if p != b.bare {
			p.stop()
		}
	}
}

// cleanup stops every process and removes the temp dir unless --keep.
func (b *bench) cleanup() {
	for _, p := range b.procs {
		p.stop()
	}
	if b.opts.keep {
		b.logf("kept %s", b.tmp)
		return
	}
	if err := os.RemoveAll(b.tmp); err != nil {
		b.logf("remove %s: %v", b.tmp, err)
	}
}

// runtimeLine describes the machine for the report.
func runtimeLine(ctx context.Context, root string) (goVersion, cpu string) {
	goVersion = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.CommandContext(ctx, "go", "env", "GOVERSION")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		goVersion = strings.TrimSpace(string(out)) + " " + runtime.GOOS + "/" + runtime.GOARCH
	}
	cpu = fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu += ", " + strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			cpu += ", load average " + f[0] + " at start (other work on the machine skews every number)"
		}
	}
	return goVersion, cpu
}

// gitCommit is the short commit of the module, "+ uncommitted changes" when the tree is
// dirty, or "" outside git.
func gitCommit(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	cmd = exec.CommandContext(ctx, "git", "status", "--porcelain")
	cmd.Dir = root
	if st, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		commit += " + uncommitted changes"
	}
	return commit
}
