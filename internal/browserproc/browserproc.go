// Package browserproc ends the processes of a browser a test started.
package browserproc

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillProfile kills, by pid, the processes whose command line names
// profile as their user data directory (--user-data-dir=profile): only
// the children of a browser the test started with its own directory can,
// and they can outlive the main process for a moment. It returns how many
// it found, after looking until none is left (at most 2 s).
func KillProfile(profile string) int {
	want := "--user-data-dir=" + profile
	total := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return total
		}
		n := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			for arg := range strings.SplitSeq(string(cmdline), "\x00") {
				if arg == want {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					n++
					break
				}
			}
		}
		if n == 0 {
			return total
		}
		total += n
	}
	return total
}
