//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package supervise

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// errUnsupported is what every function here returns on this system.
var errUnsupported = fmt.Errorf("worker processes are not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Process is a started worker; none can start on this system.
type Process struct {
	PID int
	In  *os.File
	Out *os.File
}

// Available returns an error matching errors.ErrUnsupported: worker
// processes are not supported on this system.
func Available() error { return errUnsupported }

func start(Config) (*Process, error) { return nil, errUnsupported }

// Signal returns an error matching errors.ErrUnsupported.
func (p *Process) Signal(syscall.Signal) error { return errUnsupported }

// Wait returns an empty Exit: no process was started.
func (p *Process) Wait() Exit { return Exit{} }

// Progress returns zeros: no process was started.
func (p *Process) Progress() (started, over uint64) { return 0, 0 }

// Attach returns an error matching errors.ErrUnsupported.
func Attach() (in, out *os.File, page Page, err error) {
	return nil, nil, nil, errUnsupported
}
