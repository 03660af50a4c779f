package engine

import (
	"io/fs"
	"testing"
)

// TestCgroupLimit: the limit of the process's own cgroup and its
// ancestors counts, the smallest wins, "max" and v1's unlimited do not.
func TestCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		self  string
		files map[string]string
		want  int64
	}{
		{"v2 unit under systemd", "0::/system.slice/volley.service\n",
			map[string]string{"/cg/memory.max": "max\n", "/cg/system.slice/volley.service/memory.max": "1073741824\n"}, 1 << 30},
		{"v2 parent's limit is smaller", "0::/a/b\n",
			map[string]string{"/cg/a/memory.max": "536870912\n", "/cg/a/b/memory.max": "1073741824\n"}, 1 << 29},
		{"v2 no limit", "0::/a\n", map[string]string{"/cg/memory.max": "max\n", "/cg/a/memory.max": "max\n"}, 0},
		{"v1 memory controller", "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
			map[string]string{"/cg/memory/docker/abc/memory.limit_in_bytes": "268435456\n", "/cg/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 1 << 28},
		{"v1 combined controllers", "4:cpu,memory:/x\n", map[string]string{"/cg/memory/x/memory.limit_in_bytes": "4096\n"}, 4096},
		{"namespaced root files", "0::/\n", map[string]string{"/cg/memory.max": "2147483648\n"}, 1 << 31},
		{"nothing readable", "", nil, 0},
	} {
		read := func(name string) ([]byte, error) {
			if v, ok := tc.files[name]; ok {
				return []byte(v), nil
			}
			return nil, fs.ErrNotExist
		}
		if got := cgroupLimit(tc.self, "/cg", read); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
