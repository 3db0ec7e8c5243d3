package clustertest

import "syscall"

// sysProcAttr ties a component's life to the test process: if the test binary dies
// (a panic, a timeout, a kill), the kernel kills the component too, so no API server
// outlives its test. Go threads that started a child only exit when a goroutine
// locked to them ends, which nothing here does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
