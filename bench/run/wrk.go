package main

// wrk rows, shared by the groups that measure with wrk beside the Go load generator
// (catalog, split): the Lua script that cycles over paths, running wrk, parsing its report.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

const (
	wrkThreads = 2
	wrkConns   = 64
)

// errNoWrk is why a wrk row is not run on a machine without wrk.
var errNoWrk = errors.New("wrk not installed")

// wrkLoad is one wrk row: wrk against base, cycling over paths, after an unmeasured run of
// warmup (0: none; else rounded to whole seconds, at least one: wrk's granularity). alive reports a dead server.
type wrkLoad struct {
	name   string
	base   string
	paths  []string
	warmup time.Duration
	alive  func() error
}

// wrkName is a row name with wrk's threads and connections.
func wrkName(scenario string) string {
	return fmt.Sprintf("%s, wrk %d threads × %d connections", scenario, wrkThreads, wrkConns)
}

// wrkScript is a Lua script for wrk that asks the paths in turn (each thread from its own
// counter).
func wrkScript(paths []string) string {
	var b strings.Builder
	b.WriteString("local paths = {\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "  %q,\n", p)
	}
	b.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n")
	return b.String()
}

// wrkSeconds is d rounded to wrk's whole seconds, at least 1.
func wrkSeconds(d time.Duration) int {
	return max(1, int(d.Round(time.Second)/time.Second))
}

// wrkRow runs l and adds its row: ratio 1 when isBaseline, else the rate over baseline's
// ("—" when the baseline did not run). A row that wrk could not measure (wrk missing, say)
// is "not run"; a dead server or an interrupt is the error.
func (b *bench) wrkRow(ctx context.Context, g *groupResult, l wrkLoad, isBaseline bool, baseline *loadgen.Result) (*loadgen.Result, error) {
	if err := l.alive(); err != nil {
		return nil, err
	}
	res, err := b.runWrk(ctx, l)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if dead := l.alive(); dead != nil {
		return nil, dead
	}
	if err != nil {
		b.logf("%s: not run: %v", l.name, err)
		g.rows = append(g.rows, row{name: l.name, notRun: err.Error()})
		return nil, nil
	}
	g.rows = append(g.rows, row{name: l.name, res: &res, ratio: splitRatio(&res, isBaseline, baseline)})
	return &res, nil
}

// runWrk runs `wrk -t2 -c64 -d<duration> --latency -s <script> base` with a script cycling
// over the paths, after the warm-up run if any, and returns what it printed, parsed.
func (b *bench) runWrk(ctx context.Context, l wrkLoad) (loadgen.Result, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return loadgen.Result{}, errNoWrk
	}
	script := filepath.Join(b.tmp, "wrk-"+randomHex(4)+".lua")
	if err := os.WriteFile(script, []byte(wrkScript(l.paths)), 0o644); err != nil {
		return loadgen.Result{}, err
	}
	run := func(secs int) (string, error) {
		args := []string{"-t" + strconv.Itoa(wrkThreads), "-c" + strconv.Itoa(wrkConns), "-d" + strconv.Itoa(secs) + "s",
			"--latency", "--timeout", "10s", "-s", script, l.base + "/"}
		cctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, args...)
		cmd.Env = childEnv()
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err != nil {
			return "", fmt.Errorf("wrk: %v: %s", err, lastLines(string(out), 3))
		}
		return string(out), nil
	}
	if l.warmup > 0 {
		out, err := run(wrkSeconds(l.warmup))
		if err != nil {
			return loadgen.Result{}, err
		}
		// The warm-up is not measured, but a warm-up that failed requests says so now.
		if res, err := parseWrk(out); err != nil {
			return res, err
		} else if res.ErrorCount() > 0 {
			b.logf("%s: warm-up errors %s", l.name, res.ErrorSummary())
		}
	}
	secs := wrkSeconds(b.opts.duration)
	out, err := run(secs)
	if err != nil {
		return loadgen.Result{}, err
	}
	if err := os.WriteFile(filepath.Join(b.tmp, "wrk-"+strings.NewReplacer(" ", "_", "/", "_", ",", "").Replace(l.name)+".out"), []byte(out), 0o644); err != nil {
		b.logf("keep wrk output: %v", err)
	}
	res, err := parseWrk(out)
	if err != nil {
		return res, err
	}
	b.logf("%-28s %9s req/s  p50 %-8s p90 %-8s p99 %-8s max %-8s errors %s  (wrk -t%d -c%d -d%ds)",
		l.name, loadgen.FormatRate(res.ReqPerSec), loadgen.FormatLatency(res.P50), loadgen.FormatLatency(res.P90),
		loadgen.FormatLatency(res.P99), loadgen.FormatLatency(res.Max), res.ErrorSummary(), wrkThreads, wrkConns, secs)
	return res, nil
}

// parseWrkDuration reads wrk's times: "85.00us", "1.23ms", "2.03s", "1.00m", "1.00h".
func parseWrkDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("wrk: bad time %q", s)
			}
			return time.Duration(math.Round(v * float64(u.unit))), nil
		}
	}
	return 0, fmt.Errorf("wrk: bad time %q", s)
}

// parseWrk reads wrk's report (with --latency): requests and elapsed time, Requests/sec, the
// 50/90/99 % latencies, the maximum, socket errors and non-2xx/3xx answers as errors.
func parseWrk(out string) (loadgen.Result, error) {
	res := loadgen.Result{Errors: map[string]int{}}
	var haveRate, haveP50, haveP99, haveCount bool
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "Latency" && !strings.HasSuffix(f[1], "%"):
			// Thread Stats: Latency avg stdev max +/-
			if d, err := parseWrkDuration(f[3]); err == nil {
				res.Max = d
			}
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return res, err
			}
			switch f[0] {
			case "50%":
				res.P50, haveP50 = d, true
			case "90%":
				res.P90 = d
			case "99%":
				res.P99, haveP99 = d, true
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return res, fmt.Errorf("wrk: bad line %q", strings.TrimSpace(line))
			}
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return res, err
			}
			res.Requests, res.Elapsed, haveCount = n, d, true
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, fmt.Errorf("wrk: bad line %q", strings.TrimSpace(line))
			}
			res.ReqPerSec, haveRate = v, true
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 12
			rest := strings.TrimPrefix(strings.TrimSpace(line), "Socket errors:")
			for _, part := range strings.Split(rest, ",") {
				kv := strings.Fields(part)
				if len(kv) != 2 {
					return res, fmt.Errorf("wrk: bad line %q", strings.TrimSpace(line))
				}
				n, err := strconv.Atoi(kv[1])
				if err != nil {
					return res, fmt.Errorf("wrk: bad line %q", strings.TrimSpace(line))
				}
				if n > 0 {
					res.Errors["socket "+kv[0]] += n
				}
			}
		case strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:")))
			if err != nil {
				return res, fmt.Errorf("wrk: bad line %q", strings.TrimSpace(line))
			}
			if n > 0 {
				res.Errors["non-2xx/3xx"] += n
			}
		}
	}
	if !haveRate || !haveP50 || !haveP99 || !haveCount {
		return res, fmt.Errorf("wrk: no Requests/sec, 50%%/99%% latency or request count in its output: %s", lastLines(out, 3))
	}
	return res, nil
}
