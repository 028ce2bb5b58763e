package s3test

import "syscall"

// sysProcAttr kills the server if the test binary dies, so no server outlives a crashed test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
