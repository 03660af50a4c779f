package httpwire

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/upgrade"
)

// The seed corpus lives in testdata/fuzz/FuzzParseRequest.

var parseSentinels = []error{
	upgrade.ErrHeaderTooLarge, upgrade.ErrMalformedRequest, upgrade.ErrUnsupportedProto, upgrade.ErrMissingHost,
	upgrade.ErrBadHost, upgrade.ErrBadContentLength, upgrade.ErrTransferEncoding,
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(browserHandshake), uint16(4096))
	f.Fuzz(func(t *testing.T, b []byte, limit uint16) {
		maxHead := int(limit)
		req, n, err := ParseRequest(b, maxHead)
		checkParseResult(t, b, maxHead, req, n, err)
		checkNoCopy(t, b, maxHead, req, n, err)
		if err == nil && req != nil {
			// The head alone parses the same, even with the tightest limit.
			req2, n2, err2 := ParseRequest(b[:n], n)
			if err2 != nil || n2 != n || req2.Method != req.Method || req2.Target != req.Target ||
				len(req2.Header) != len(req.Header) || req2.Host != req.Host {
				t.Fatalf("re-parse of head %q = %+v, %d, %v; first parse %+v", b[:n], req2, n2, err2, req)
			}
		}
		// Prefix consistency: a shorter input gives "need more" or the
		// same answer.
		step := 1
		if len(b) > 512 {
			step = len(b)/256 + 1
		}
		for i := 0; i < len(b); i += step {
			preq, pn, perr := ParseRequest(b[:i], maxHead)
			switch {
			case perr == nil && preq == nil: // need more
			case err == nil && req != nil && perr == nil && i >= n && pn == n:
			case err != nil && perr == err:
			default:
				t.Fatalf("prefix %d of %q: got %v, %d, %v; whole input: %v, %d, %v",
					i, b, preq, pn, perr, req, n, err)
			}
		}
	})
}

// checkNoCopy checks that ParseRequestNoCopy, into a Request that held
// another parse, gives ParseRequest's result (req, n, err), and that its
// Clone owns its memory: it is unchanged when the input is overwritten.
func checkNoCopy(t *testing.T, b []byte, maxHead int, req *upgrade.Request, n int, err error) {
	t.Helper()
	var r upgrade.Request
	if _, err := ParseRequestNoCopy(&r, []byte(browserHandshake), len(browserHandshake)); err != nil {
		t.Fatal(err)
	}
	in := bytes.Clone(b)
	n2, err2 := ParseRequestNoCopy(&r, in, maxHead)
	if n2 != n || err2 != err {
		t.Fatalf("ParseRequestNoCopy(%q) = %d, %v; ParseRequest: %d, %v", b, n2, err2, n, err)
	}
	if n == 0 {
		return
	}
	if !sameRequest(&r, req) {
		t.Fatalf("ParseRequestNoCopy(%q) = %+v; ParseRequest: %+v", b, r, *req)
	}
	c := r.Clone()
	for i := range in {
		in[i] = 'x'
	}
	if !sameRequest(c, req) {
		t.Fatalf("Clone after the input changed = %+v; want %+v", *c, *req)
	}
}

// sameRequest reports whether a and b hold the same values (a nil and an
// empty header count as the same).
func sameRequest(a, b *upgrade.Request) bool {
	return a.Method == b.Method && a.Target == b.Target && a.Path == b.Path && a.RawQuery == b.RawQuery &&
		a.Proto == b.Proto && a.ProtoMinor == b.ProtoMinor && a.Host == b.Host &&
		a.ContentLength == b.ContentLength && a.KeepAlive == b.KeepAlive &&
		slices.Equal(a.Header, b.Header)
}

// checkParseResult checks the invariants of one ParseRequest result.
func checkParseResult(t *testing.T, b []byte, maxHead int, req *upgrade.Request, n int, err error) {
	t.Helper()
	if n < 0 || n > len(b) {
		t.Fatalf("n = %d out of range for len %d", n, len(b))
	}
	if err != nil {
		if req != nil || n != 0 || !slices.Contains(parseSentinels, err) {
			t.Fatalf("error result %v, %d, %v", req, n, err)
		}
		return
	}
	if req == nil {
		if n != 0 || len(b) >= maxHead {
			t.Fatalf("need-more with n = %d, len %d, maxHead %d", n, len(b), maxHead)
		}
		return
	}
	if n == 0 || n > maxHead || !bytes.HasSuffix(b[:n], []byte("\n")) {
		t.Fatalf("success with n = %d, maxHead %d, head %q", n, maxHead, b[:n])
	}
	if !ascii.IsToken(req.Method) || req.Target == "" || strings.ContainsAny(req.Target, " \r\n") {
		t.Fatalf("bad request line %q %q", req.Method, req.Target)
	}
	if req.Proto != "HTTP/1.0" && req.Proto != "HTTP/1.1" || req.Proto[7]-'0' != byte(req.ProtoMinor) {
		t.Fatalf("Proto %q, ProtoMinor %d", req.Proto, req.ProtoMinor)
	}
	if !strings.Contains(req.Target, req.Path) && req.Path != "/" || !strings.HasSuffix(req.Target, req.RawQuery) {
		t.Fatalf("Target %q, Path %q, RawQuery %q", req.Target, req.Path, req.RawQuery)
	}
	if req.ContentLength < -1 {
		t.Fatalf("ContentLength %d", req.ContentLength)
	}
	if req.ProtoMinor == 1 && len(req.Header.Values("Host")) != 1 {
		t.Fatalf("HTTP/1.1 request with Host fields %q", req.Header.Values("Host"))
	}
	if req.Header.Get("Transfer-Encoding") != "" || len(req.Header.Values("Transfer-Encoding")) != 0 {
		t.Fatal("Transfer-Encoding accepted")
	}
	for _, f := range req.Header {
		if !ascii.IsToken(f.Name) || ascii.TrimOWS(f.Value) != f.Value {
			t.Fatalf("bad field %q", f)
		}
		for j := 0; j < len(f.Value); j++ {
			if c := f.Value[j]; c < ' ' && c != '\t' || c == 0x7f {
				t.Fatalf("control character in field %q", f)
			}
		}
	}
}
