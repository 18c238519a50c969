//go:build !linux

package main

import "syscall"

// childSysProcAttr: outside Linux there is no parent-death signal; the runner's deferred
// cleanup stops its children.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
