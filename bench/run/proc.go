package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	stopGrace  = 10 * time.Second // from SIGTERM to SIGKILL
	tailBytes  = 4 << 10          // of each output file, when a process is reported dead
	pollEvery  = 50 * time.Millisecond
	readyProbe = 2 * time.Second // one /readyz request
)

// proc is a server the runner started. Its stdout and stderr go to files in the temp dir.
type proc struct {
	name    string
	base    string // http://127.0.0.1:PORT
	ops     string // http://127.0.0.1:PORT of its operator listener (MINIMART_OPS_ADDR): /metrics
	cmd     *exec.Cmd
	outPath string
	errPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
	stopped bool // the runner asked it to stop: an exit is not a death
}

// childEnv is the runner's environment without any MINIMART_* variable (a developer's own
// MINIMART_DB_URL must never reach the process under test), then extra KEY=value pairs.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIMART_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// freeAddr is a loopback address with a port nobody listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// startProc starts bin with args and env in dir, output to dir/<name>.stdout|.stderr.
func startProc(name, bin, dir, addr string, args, env []string) (*proc, error) {
	p := &proc{
		name:    name,
		base:    "http://" + addr,
		outPath: filepath.Join(dir, name+".stdout"),
		errPath: filepath.Join(dir, name+".stderr"),
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
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	p.cmd.SysProcAttr = childSysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// deadError is non-nil when the process ended without being asked to: its exit status and
// the end of its output.
func (p *proc) deadError() error {
	if p.stopped || !p.exited() {
		return nil
	}
	return fmt.Errorf("%s exited unexpectedly (%v)\n%s", p.name, p.waitErr, p.output())
}

// output is the end of the process's stdout and stderr, for a report.
func (p *proc) output() string {
	return fmt.Sprintf("--- %s (end):\n%s--- %s (end):\n%s", p.outPath, tail(p.outPath), p.errPath, tail(p.errPath))
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error() + "\n"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailBytes {
		_, _ = f.Seek(-tailBytes, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	s := string(b)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// stop sends SIGTERM, waits up to stopGrace, then kills. Safe to call more than once.
func (p *proc) stop() {
	p.stopped = true
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls GET /readyz until it answers 200, the process dies, ctx ends or timeout
// passes.
func (p *proc) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: readyProbe}
	deadline := time.Now().Add(timeout)
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		if err := p.deadError(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: GET /readyz not 200 within %s; last answer: %s\n%s", p.name, timeout, last, p.output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
		case <-time.After(pollEvery):
		}
	}
}

// waitSettled polls the operator listener's /metrics until minimart_outbox_pending is 0:
// every committed event has been published and handled.
func (p *proc) waitSettled(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: readyProbe}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ops+"/metrics", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "\nminimart_outbox_pending 0\n") {
				return nil
			}
		}
		if err := p.deadError(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: outbox not drained within %s", p.name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// runCommand runs bin with args to completion (bounded by timeout) and returns its combined
// output.
func runCommand(ctx context.Context, timeout time.Duration, dir, bin string, args, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = childSysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("did not finish within %s: %w", timeout, err)
	}
	return string(out), err
}
