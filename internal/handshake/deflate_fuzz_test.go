package handshake

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/upgrade"
)

// Seed corpus: testdata/fuzz/FuzzNegotiateDeflate.

// A reference permessage-deflate offer parser built on regular expressions,
// independent of parseDeflateOffer's scanner.
var (
	refToken    = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
	refNameRE   = regexp.MustCompile(`^[ \t]*(` + refToken + `)`)
	refParamRE  = regexp.MustCompile(`^(?s)[ \t]*;[ \t]*(` + refToken + `)(?:[ \t]*=[ \t]*(?:(` + refToken + `)|"((?:[^"\\]|\\.)*)"))?`)
	refPairRE   = regexp.MustCompile(`(?s)\\(.)`)
	refBitsRE   = regexp.MustCompile(`^(?:[89]|1[0-5])$`)
	refTrailing = regexp.MustCompile(`^[ \t]*$`)
)

// refParseOffer parses s as a permessage-deflate offer with regular
// expressions; ok is false when s is not one or must be declined.
func refParseOffer(s string) (o deflateOffer, ok bool) {
	m := refNameRE.FindStringSubmatch(s)
	if m == nil || strings.ToLower(m[1]) != "permessage-deflate" {
		return deflateOffer{}, false
	}
	rest := s[len(m[0]):]
	seen := map[string]bool{}
	for {
		m := refParamRE.FindStringSubmatchIndex(rest)
		if m == nil {
			break
		}
		name := strings.ToLower(rest[m[2]:m[3]])
		hasValue, value := false, ""
		switch {
		case m[4] >= 0:
			hasValue, value = true, rest[m[4]:m[5]]
		case m[6] >= 0:
			hasValue, value = true, refPairRE.ReplaceAllString(rest[m[6]:m[7]], "$1")
		}
		rest = rest[m[1]:]
		if seen[name] {
			return deflateOffer{}, false
		}
		seen[name] = true
		bits := 0
		if refBitsRE.MatchString(value) {
			fmt.Sscan(value, &bits)
		}
		switch name {
		case "server_no_context_takeover":
			o.serverNoContextTakeover = true
			ok = !hasValue
		case "client_no_context_takeover":
			o.clientNoContextTakeover = true
			ok = !hasValue
		case "server_max_window_bits":
			o.serverMaxWindowBits = bits
			ok = bits != 0
		case "client_max_window_bits":
			o.clientMaxWindowBits = 15
			if hasValue {
				o.clientMaxWindowBits = bits
			}
			ok = o.clientMaxWindowBits != 0
		default:
			ok = false
		}
		if !ok {
			return deflateOffer{}, false
		}
	}
	if !refTrailing.MatchString(rest) {
		return deflateOffer{}, false
	}
	return o, true
}

// parseDeflateResponse parses a Sec-WebSocket-Extensions response value as
// a client must (RFC 7692 section 7.1), strictly: one permessage-deflate
// element, each parameter at most once, window sizes 8 to 15 without
// leading zeros, client_max_window_bits with a value. Absent window sizes
// are 15. serverWindowOffered is set when the response has
// server_max_window_bits: the server repeats it, 15 included, exactly when
// the accepted offer had it (RFC 7692 section 7.1.2.1).
func parseDeflateResponse(s string) (DeflateParams, error) {
	p := DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	parts := strings.Split(s, "; ")
	if parts[0] != "permessage-deflate" {
		return p, fmt.Errorf("extension %q", parts[0])
	}
	seen := map[string]bool{}
	for _, param := range parts[1:] {
		name, value, hasValue := strings.Cut(param, "=")
		if seen[name] {
			return p, fmt.Errorf("duplicate %q", name)
		}
		seen[name] = true
		bits := 0
		if refBitsRE.MatchString(value) {
			fmt.Sscan(value, &bits)
		}
		switch {
		case name == "server_no_context_takeover" && !hasValue:
			p.ServerNoContextTakeover = true
		case name == "client_no_context_takeover" && !hasValue:
			p.ClientNoContextTakeover = true
		case name == "server_max_window_bits" && bits != 0:
			p.ServerMaxWindowBits = bits
			p.serverWindowOffered = true
		case name == "client_max_window_bits" && bits != 0:
			p.ClientMaxWindowBits = bits
		default:
			return p, fmt.Errorf("parameter %q", param)
		}
	}
	return p, nil
}

func FuzzNegotiateDeflate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", true, uint8(0))
	f.Add(autobahnOffer(true, 8)+", "+autobahnOffer(false, 0), false, uint8(10))
	f.Add(`foo; bar="a,b", permessage-deflate; server_max_window_bits="1\2"; client_max_window_bits=9`, true, uint8(12))
	f.Add(autobahnOffer(false, 15), true, uint8(11))
	f.Fuzz(func(t *testing.T, header string, contextTakeover bool, bits uint8) {
		c := &upgrade.Compression{Enabled: true, ContextTakeover: contextTakeover, ClientMaxWindowBits: int(int8(bits))}

		// The scanner agrees with the reference parser on the raw input.
		o, ok := parseDeflateOffer(header)
		ro, rok := refParseOffer(header)
		if ok != rok || o != ro {
			t.Fatalf("parseDeflateOffer(%q) = %+v, %v; reference %+v, %v", header, o, ok, ro, rok)
		}

		// Negotiate the list elements as CheckHandshake splits them.
		var offers []string
		ascii.SplitList(header, func(s string) bool { offers = append(offers, s); return true })
		p, ok := NegotiateDeflate(offers, c)
		var accepted *deflateOffer
		for _, s := range offers {
			if o, ok := refParseOffer(s); ok {
				accepted = &o
				break
			}
		}
		if ok != (accepted != nil) {
			t.Fatalf("NegotiateDeflate(%q) ok = %v; reference accepts %+v", offers, ok, accepted)
		}
		if off := *c; !ok {
			if p != (DeflateParams{}) {
				t.Fatalf("declined with %+v", p)
			}
			off.Enabled = false
			if p, ok := NegotiateDeflate(offers, &off); ok || p != (DeflateParams{}) {
				t.Fatalf("disabled: %+v, %v", p, ok)
			}
			return
		}
		checkDeflateParams(t, p, accepted, c)

		// The response parses back to p as a client reads it, with
		// server_max_window_bits exactly when the offer had it, 15
		// included.
		resp := p.String()
		q, err := parseDeflateResponse(resp)
		if err != nil || q != p {
			t.Fatalf("response %q of %+v parses to %+v, %v", resp, p, q, err)
		}
		if b := p.AppendResponse([]byte(header)); string(b) != header+resp {
			t.Fatalf("AppendResponse = %q; want %q", b, header+resp)
		}
		if want := accepted.serverMaxWindowBits != 0; strings.Contains(resp, "server_max_window_bits=") != want {
			t.Fatalf("offer %+v: response %q; want server_max_window_bits: %v", *accepted, resp, want)
		}
		// As an offer, the response negotiates to the same result,
		// serverWindowOffered included.
		if p2, ok := NegotiateDeflate([]string{resp}, c); !ok || p2 != p {
			t.Fatalf("response %q as an offer: %+v, %v; want %+v", resp, p2, ok, p)
		}
	})
}

// checkDeflateParams checks the invariants of p, negotiated from offer o
// under c.
func checkDeflateParams(t *testing.T, p DeflateParams, o *deflateOffer, c *upgrade.Compression) {
	t.Helper()
	wantServer, wantClient := 15, 15
	if o.serverMaxWindowBits != 0 {
		wantServer = o.serverMaxWindowBits
	}
	if o.clientMaxWindowBits != 0 {
		wantClient = o.clientMaxWindowBits
		if c.ClientMaxWindowBits >= 9 && c.ClientMaxWindowBits <= 15 {
			wantClient = min(wantClient, c.ClientMaxWindowBits)
		}
	}
	switch {
	case p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > 15 || p.ClientMaxWindowBits < 8 || p.ClientMaxWindowBits > 15:
		t.Fatalf("window sizes out of range: %+v", p)
	case p.ServerMaxWindowBits < 15 && !p.ServerNoContextTakeover:
		t.Fatalf("small server window with context takeover: %+v", p)
	case !c.ContextTakeover && (!p.ServerNoContextTakeover || !p.ClientNoContextTakeover):
		t.Fatalf("context takeover disabled, got %+v", p)
	case o.serverNoContextTakeover && !p.ServerNoContextTakeover, o.clientNoContextTakeover && !p.ClientNoContextTakeover:
		t.Fatalf("offer %+v asked for no context takeover, got %+v", *o, p)
	case c.ContextTakeover && !o.serverNoContextTakeover && p.ServerMaxWindowBits == 15 && p.ServerNoContextTakeover,
		c.ContextTakeover && !o.clientNoContextTakeover && p.ClientNoContextTakeover:
		t.Fatalf("offer %+v, context takeover allowed, got %+v", *o, p)
	case p.serverWindowOffered != (o.serverMaxWindowBits != 0):
		t.Fatalf("offer %+v: serverWindowOffered %v", *o, p.serverWindowOffered)
	case p.ServerMaxWindowBits != wantServer || p.ClientMaxWindowBits != wantClient:
		t.Fatalf("offer %+v, config %+v: windows %d, %d; want %d, %d", *o, *c,
			p.ServerMaxWindowBits, p.ClientMaxWindowBits, wantServer, wantClient)
	}
}
