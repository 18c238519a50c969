package main

import (
	"errors"
	"syscall"
)

var sigTERM = syscall.SIGTERM

// splitSysProcAttr puts split.sh in its own process group (its instances and nginx stay in
// it, so one signal to the group ends them all) and sends it SIGTERM if the runner dies:
// its trap then stops the instances and nginx, which a SIGKILL of the script would orphan.
func splitSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup kills what is left of the process group led by pid (split.sh's).
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// pidAlive reports whether the process exists (EPERM: it does, owned by someone else).
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

const splitSupported = true
