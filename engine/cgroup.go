package engine

import (
	"path"
	"strconv"
	"strings"
)

// cgroupLimit returns the smallest memory limit on the cgroup a process
// is in and on its ancestors, or 0 when none is set. self is the content
// of /proc/self/cgroup, root where the cgroup file systems are mounted,
// read how to read a file. Its own cgroup is what counts: a service under
// systemd, which gets no cgroup namespace, sees the root cgroup's files at
// root/memory.max, not its unit's MemoryMax=. It looks at cgroup v2 (the
// "0::" line: root/PATH/memory.max) and v1 (the line naming the memory
// controller: root/memory/PATH/memory.limit_in_bytes), then at root's own
// files, as a container with a cgroup namespace shows them.
func cgroupLimit(self, root string, read func(string) ([]byte, error)) int64 {
	var best int64
	take := func(file string) {
		b, err := read(file)
		if err != nil {
			return
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && v > 0 && v < 1<<60 && (best == 0 || v < best) {
			best = v // "max" (v2) and v1's huge "unlimited" do not parse or are skipped
		}
	}
	// each takes dir/file for dir = base/p and every ancestor of it.
	each := func(base, p, file string) {
		for p = path.Clean("/" + p); ; p = path.Dir(p) {
			take(path.Join(base, p, file))
			if p == "/" {
				return
			}
		}
	}
	for line := range strings.SplitSeq(self, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			each(root, parts[2], "memory.max")
		case hasController(parts[1], "memory"):
			each(path.Join(root, "memory"), parts[2], "memory.limit_in_bytes")
		}
	}
	take(path.Join(root, "memory.max"))
	take(path.Join(root, "memory", "memory.limit_in_bytes"))
	return best
}

// hasController reports whether a /proc/self/cgroup line's controller list
// (comma-separated) names c.
func hasController(list, c string) bool {
	for name := range strings.SplitSeq(list, ",") {
		if name == c {
			return true
		}
	}
	return false
}
