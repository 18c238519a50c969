//go:build !linux

package main

import (
	"os"
	"syscall"
)

var sigTERM os.Signal = os.Interrupt

// The split group needs bash, nginx and process groups: Linux only (it is skipped elsewhere).
func splitSysProcAttr() *syscall.SysProcAttr { return nil }
func killGroup(int)                          {}
func pidAlive(int) bool                      { return true }

const splitSupported = false
