package upgrade

import "unsafe"

// borrowString returns b as a string without copying. The string is valid
// only while b is unchanged; ParseRequestNoCopy documents that contract.
func borrowString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// rebase returns the part of to that s is of from, when s lies within
// from's bytes, and s itself otherwise. from and to have the same length.
func rebase(s, from, to string) string {
	if len(s) == 0 || len(from) == 0 {
		return s
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(from)))
	if off >= uintptr(len(from)) || uintptr(len(s)) > uintptr(len(from))-off {
		return s
	}
	return to[off : off+uintptr(len(s))]
}

// setRaw makes b the Context's copy of the request head and body. The
// Context keeps it as a pointer and a length, 8 bytes less than a slice
// header in a struct that every idle session holds.
func (c *Context) setRaw(b []byte) {
	c.raw, c.rawLen = unsafe.SliceData(b), len(b)
}

// rawBytes returns what setRaw was given.
func (c *Context) rawBytes() []byte {
	return unsafe.Slice(c.raw, c.rawLen)
}
