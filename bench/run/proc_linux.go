package main

import "syscall"

// childSysProcAttr puts a child in its own process group, so a Ctrl-C in the terminal
// reaches only the runner (which then stops its children in order instead of finding them
// dead), and makes the kernel kill the child if the runner itself dies without cleaning up
// (SIGKILL, a crash), so no server is left holding a port and a CPU.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
