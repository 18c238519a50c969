package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// row is one line of a group's table.
type row struct {
	name   string
	res    *loadgen.Result // nil when not run
	ratio  string
	notRun string // why the scenario was not measured
	// noLatency prints "—" for p50 and p99: the row has no per-operation latency.
	noLatency bool
}

// groupResult is what one scenario group produced.
type groupResult struct {
	name    string
	about   string
	rows    []row
	notes   []string
	skipped string // setup could not be done: no table
	err     error  // failed part-way: the rows so far are shown
	// interrupted: the run was stopped (Ctrl-C) during this group
	interrupted bool
	// failedChecks counts checks of the results (see fail) that did not pass
	failedChecks int
	// rateHeader heads the throughput column; "" is "req/s".
	rateHeader string
}

func (g *groupResult) skip(format string, args ...any) { g.skipped = fmt.Sprintf(format, args...) }
func (g *groupResult) note(format string, args ...any) {
	g.notes = append(g.notes, fmt.Sprintf(format, args...))
}

// fail adds a note on a check of the results that did not pass (an oversold flash sale,
// say); the group then counts as failed.
// result is the measured result of the row called name, nil if there is none.
func (g *groupResult) result(name string) *loadgen.Result {
	for _, r := range g.rows {
		if r.name == name {
			return r.res
		}
	}
	return nil
}

func (g *groupResult) fail(format string, args ...any) {
	g.failedChecks++
	g.note(format, args...)
}

// ok is false when anything in the group did not run as intended.
func (g *groupResult) ok() bool {
	if g.skipped != "" || g.err != nil || g.failedChecks > 0 {
		return false
	}
	for _, r := range g.rows {
		if r.notRun != "" || (r.res != nil && r.res.ErrorCount() > 0) {
			return false
		}
	}
	return true
}

// report is the Markdown section for docs/benchmarks.md.
type report struct {
	opts    options
	command string
	goVer   string
	cpu     string
	commit  string
	date    time.Time
	groups  []*groupResult
}

func newReport(ctx context.Context, o options, args []string, root string) *report {
	goVer, cpu := runtimeLine(ctx, root)
	return &report{
		opts:    o,
		command: commandLine(args),
		goVer:   goVer,
		cpu:     cpu,
		commit:  gitCommit(ctx, root),
		date:    time.Now().UTC(),
	}
}

func (r *report) ok() bool {
	for _, g := range r.groups {
		if !g.ok() {
			return false
		}
	}
	return true
}

func (r *report) markdown(interrupted bool) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("## %s — %s", strings.Join(r.opts.scenarios, ", "), r.date.Format("2006-01-02 15:04 MST"))
	p("")
	if interrupted {
		p("**Interrupted: partial results.**")
		p("")
	}
	p("Command: `%s`", r.command)
	p("")
	commit := ""
	if r.commit != "" {
		commit = ", commit " + r.commit
	}
	if r.opts.minimartBin != "" {
		commit = ", minimart binary `" + r.opts.minimartBin + "` (not built from this tree)"
	}
	p("- %s; %s%s.", r.goVer, r.cpu, commit)
	if slices.ContainsFunc(r.opts.scenarios, func(s string) bool { return s != "events" }) {
		p("- %d concurrent keep-alive connections, one request in flight each; %s warm-up, then %s measured per row. The load generator, the bare server and minimart share this machine over loopback.",
			r.opts.concurrency, r.opts.warmup, r.opts.duration)
	} else {
		p("- %s warm-up, then %s measured per timed row (see the group's notes). The runner, RabbitMQ and the database share this machine over loopback.",
			r.opts.warmup, r.opts.duration)
	}
	p("- Ratio to baseline: the row's req/s divided by that of the baseline row just above it, measured seconds earlier: for reads a bare `net/http` handler answering a fixed 1.5 KB product JSON (`bench/bare`); for orders the database's own raw write rate; for events RabbitMQ's raw confirmed-publish rate (see each section). Latencies are exact percentiles over every request in the window.")
	for _, g := range r.groups {
		p("")
		p("### %s", g.name)
		p("")
		p("%s.", upperFirst(g.about))
		p("")
		if g.skipped != "" {
			p("**Skipped:** %s", oneLine(g.skipped))
			continue
		}
		if len(g.rows) > 0 {
			rateHeader := g.rateHeader
			if rateHeader == "" {
				rateHeader = "req/s"
			}
			p("%s", loadgen.MarkdownHeader("scenario", rateHeader, "p50", "p99", "errors", "ratio to baseline"))
			for _, row := range g.rows {
				if row.res == nil {
					p("%s", loadgen.MarkdownRow(row.name, "—", "—", "—", "—", "not run"))
					continue
				}
				res := row.res
				p50, p99 := loadgen.FormatLatency(res.P50), loadgen.FormatLatency(res.P99)
				if row.noLatency {
					p50, p99 = "—", "—"
				}
				p("%s", loadgen.MarkdownRow(row.name, loadgen.FormatRate(res.ReqPerSec), p50, p99, res.ErrorSummary(), row.ratio))
			}
			p("")
		}
		for _, row := range g.rows {
			if row.notRun != "" {
				p("- %s: not run: %s", row.name, oneLine(row.notRun))
			}
		}
		for _, n := range g.notes {
			p("- %s", n)
		}
		if g.interrupted {
			p("")
			p("_Interrupted here._")
		}
		if g.err != nil {
			p("")
			p("**Failed:**")
			p("")
			p("```")
			p("%s", strings.TrimRight(g.err.Error(), "\n"))
			p("```")
		}
	}
	// Sections that had nothing to show leave runs of blank lines.
	md := b.String()
	for strings.Contains(md, "\n\n\n") {
		md = strings.ReplaceAll(md, "\n\n\n", "\n\n")
	}
	return md
}

// commandLine is the command that reproduces this run, as a person would type it.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./bench/run"}
	for _, a := range args {
		parts = append(parts, shellQuote(redactURL(a)))
	}
	return strings.Join(parts, " ")
}

// redactURL hides the password of a URL argument ("mysql://u:pass@h/db" or
// "--mysql-url=mysql://u:pass@h/db"), which must not end up in a committed report.
func redactURL(arg string) string {
	prefix, v := "", arg
	if strings.HasPrefix(arg, "-") {
		if k, val, ok := strings.Cut(arg, "="); ok {
			prefix, v = k+"=", val
		}
	}
	if !strings.Contains(v, "://") {
		return arg
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return arg
	}
	if _, has := u.User.Password(); !has {
		return arg
	}
	return prefix + u.Redacted()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oneLine joins lines with " / " for a Markdown list item or table cell.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " / ")
}

// lastLines is the last n non-empty lines of s (where a failing command says why), at most
// 300 bytes.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return firstLines(strings.Join(lines, "\n"), n)
}

// firstLines is the first n non-empty lines of s, at most 300 bytes.
func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
			if len(out) == n {
				break
			}
		}
	}
	j := strings.Join(out, " / ")
	if len(j) > 300 {
		j = strings.ToValidUTF8(j[:300], "") + "…"
	}
	return j
}
