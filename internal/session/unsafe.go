package conn

import "unsafe"

// unsafeBytes returns the bytes of s without copying. The result must not
// be modified; the send path only reads it.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
