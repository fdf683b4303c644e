//go:build !linux

package redisstoretest

import "os/exec"

// setDeathSignal has no portable equivalent; t.Cleanup still stops the
// server on every normal test exit.
func setDeathSignal(cmd *exec.Cmd) {}
