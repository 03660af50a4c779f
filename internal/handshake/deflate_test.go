package handshake

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/volley-ws/volley/upgrade"
)

// deflateConfigs are the server configurations every offer is negotiated
// under: with and without context takeover, with ClientMaxWindowBits 0
// (meaning 15) and 10.
var deflateConfigs = []upgrade.Compression{
	{Enabled: true, ContextTakeover: true},
	{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 10},
	{Enabled: true},
	{Enabled: true, ClientMaxWindowBits: 10},
}

// dp returns the parameters negotiated from an offer without
// server_max_window_bits.
func dp(serverNoContext, clientNoContext bool, serverBits, clientBits int) DeflateParams {
	return DeflateParams{
		ServerNoContextTakeover: serverNoContext,
		ClientNoContextTakeover: clientNoContext,
		ServerMaxWindowBits:     serverBits,
		ClientMaxWindowBits:     clientBits,
	}
}

// dpo returns the parameters negotiated from an offer with
// server_max_window_bits, which the response repeats.
func dpo(serverNoContext, clientNoContext bool, serverBits, clientBits int) DeflateParams {
	p := dp(serverNoContext, clientNoContext, serverBits, clientBits)
	p.serverWindowOffered = true
	return p
}

// checkNegotiate negotiates offers under c and compares the result with
// want, wantOK and the response value wantResp.
func checkNegotiate(t *testing.T, offers []string, c *upgrade.Compression, want DeflateParams, wantOK bool, wantResp string) {
	t.Helper()
	p, ok := NegotiateDeflate(offers, c)
	if ok != wantOK || p != want {
		t.Fatalf("NegotiateDeflate(%q, %+v) = %+v, %v; want %+v, %v", offers, *c, p, ok, want, wantOK)
	}
	if !ok {
		return
	}
	if s := p.String(); s != wantResp {
		t.Fatalf("NegotiateDeflate(%q, %+v) response %q; want %q", offers, *c, s, wantResp)
	}
	if b := p.AppendResponse([]byte("x: ")); string(b) != "x: "+wantResp {
		t.Fatalf("AppendResponse = %q; want %q", b, "x: "+wantResp)
	}
}

// autobahnOffer returns the offer of the Autobahn testsuite fuzzing client
// (sections 12 and 13) asking for server_no_context_takeover when
// noContext and for server_max_window_bits=bits when bits != 0.
func autobahnOffer(noContext bool, bits int) string {
	s := "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	if noContext {
		s += "; server_no_context_takeover"
	}
	if bits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(bits)
	}
	return s
}

// TestNegotiateDeflateAutobahn checks, with hand-written expectations, the
// offers of Autobahn cases 12.* and 13.1 to 13.7 under each configuration.
func TestNegotiateDeflateAutobahn(t *testing.T) {
	const (
		pmd  = "permessage-deflate"
		sNCT = "; server_no_context_takeover"
		cNCT = "; client_no_context_takeover"
		cw10 = "; client_max_window_bits=10"
		sw8  = "; server_max_window_bits=8"
		sw15 = "; server_max_window_bits=15"
	)
	type result struct {
		p    DeflateParams
		resp string
	}
	tests := []struct {
		name   string
		offers []string
		want   [4]result // one per deflateConfigs entry
	}{
		{"12.* and 13.1 (false, 0)", []string{autobahnOffer(false, 0)}, [4]result{
			{dp(false, true, 15, 15), pmd + cNCT},
			{dp(false, true, 15, 10), pmd + cNCT + cw10},
			{dp(true, true, 15, 15), pmd + sNCT + cNCT},
			{dp(true, true, 15, 10), pmd + sNCT + cNCT + cw10},
		}},
		{"13.2 (true, 0)", []string{autobahnOffer(true, 0)}, [4]result{
			{dp(true, true, 15, 15), pmd + sNCT + cNCT},
			{dp(true, true, 15, 10), pmd + sNCT + cNCT + cw10},
			{dp(true, true, 15, 15), pmd + sNCT + cNCT},
			{dp(true, true, 15, 10), pmd + sNCT + cNCT + cw10},
		}},
		{"13.3 (false, 8)", []string{autobahnOffer(false, 8)}, [4]result{
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
		}},
		{"13.4 (false, 15)", []string{autobahnOffer(false, 15)}, [4]result{
			{dpo(false, true, 15, 15), pmd + cNCT + sw15},
			{dpo(false, true, 15, 10), pmd + cNCT + sw15 + cw10},
			{dpo(true, true, 15, 15), pmd + sNCT + cNCT + sw15},
			{dpo(true, true, 15, 10), pmd + sNCT + cNCT + sw15 + cw10},
		}},
		{"13.5 (true, 8)", []string{autobahnOffer(true, 8)}, [4]result{
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
		}},
		{"13.6 (true, 15)", []string{autobahnOffer(true, 15)}, [4]result{
			{dpo(true, true, 15, 15), pmd + sNCT + cNCT + sw15},
			{dpo(true, true, 15, 10), pmd + sNCT + cNCT + sw15 + cw10},
			{dpo(true, true, 15, 15), pmd + sNCT + cNCT + sw15},
			{dpo(true, true, 15, 10), pmd + sNCT + cNCT + sw15 + cw10},
		}},
		{"13.7 [(true, 8), (true, 0), (false, 0)]", []string{autobahnOffer(true, 8), autobahnOffer(true, 0), autobahnOffer(false, 0)}, [4]result{
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
			{dpo(true, true, 8, 15), pmd + sNCT + cNCT + sw8},
			{dpo(true, true, 8, 10), pmd + sNCT + cNCT + sw8 + cw10},
		}},
	}
	for _, tt := range tests {
		for i := range deflateConfigs {
			t.Run(fmt.Sprintf("%s/%d", tt.name, i), func(t *testing.T) {
				checkNegotiate(t, tt.offers, &deflateConfigs[i], tt.want[i].p, true, tt.want[i].resp)
			})
		}
	}
}

// offerSpec describes a permessage-deflate offer.
type offerSpec struct {
	serverNoContext, clientNoContext bool
	serverBits                       int // 0: absent
	clientBits                       int // -1: absent, 0: without a value
}

// render writes s as an offer in one of three styles: 0 the Autobahn
// order with "; ", 1 the reverse order without whitespace, 2 upper case
// with tabs and spaces around ";" and "=" and quoted values.
func (s offerSpec) render(style int) string {
	type param struct{ name, value string }
	var params []param
	if s.clientNoContext {
		params = append(params, param{"client_no_context_takeover", ""})
	}
	switch {
	case s.clientBits == 0:
		params = append(params, param{"client_max_window_bits", ""})
	case s.clientBits > 0:
		params = append(params, param{"client_max_window_bits", strconv.Itoa(s.clientBits)})
	}
	if s.serverNoContext {
		params = append(params, param{"server_no_context_takeover", ""})
	}
	if s.serverBits != 0 {
		params = append(params, param{"server_max_window_bits", strconv.Itoa(s.serverBits)})
	}
	out := "permessage-deflate"
	for i := range params {
		p := params[i]
		switch style {
		case 0:
			out += "; " + p.name
			if p.value != "" {
				out += "=" + p.value
			}
		case 1:
			p = params[len(params)-1-i]
			out += ";" + p.name
			if p.value != "" {
				out += "=" + p.value
			}
		case 2:
			out += " ;\t" + strings.ToUpper(p.name)
			if p.value != "" {
				out += " =\t\"" + p.value + `"`
			}
		}
	}
	if style == 2 {
		out = strings.ToUpper(out) + "\t "
	}
	return out
}

// want returns the expected result and response for s under c, following
// the rules as NegotiateDeflate documents them.
func (s offerSpec) want(c *upgrade.Compression) (DeflateParams, string) {
	p := DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	resp := []string{"permessage-deflate"}
	if s.serverBits != 0 {
		p.ServerMaxWindowBits = s.serverBits
		p.serverWindowOffered = true
	}
	if s.serverNoContext || !c.ContextTakeover || p.ServerMaxWindowBits < 15 {
		p.ServerNoContextTakeover = true
		resp = append(resp, "server_no_context_takeover")
	}
	if s.clientNoContext || !c.ContextTakeover {
		p.ClientNoContextTakeover = true
		resp = append(resp, "client_no_context_takeover")
	}
	if s.serverBits != 0 { // repeated even when 15 (RFC 7692 section 7.1.2.1)
		resp = append(resp, fmt.Sprintf("server_max_window_bits=%d", p.ServerMaxWindowBits))
	}
	if s.clientBits >= 0 {
		offered, want := 15, 15
		if s.clientBits > 0 {
			offered = s.clientBits
		}
		if c.ClientMaxWindowBits >= 9 && c.ClientMaxWindowBits <= 15 {
			want = c.ClientMaxWindowBits
		}
		p.ClientMaxWindowBits = min(offered, want)
		if p.ClientMaxWindowBits < 15 {
			resp = append(resp, fmt.Sprintf("client_max_window_bits=%d", p.ClientMaxWindowBits))
		}
	}
	return p, strings.Join(resp, "; ")
}

// TestNegotiateDeflateCombinations negotiates every combination of the
// four parameters (client_max_window_bits absent, without a value and 8 to
// 15; server_max_window_bits absent and 8 to 15), written in three styles,
// under each configuration.
func TestNegotiateDeflateCombinations(t *testing.T) {
	clientBits := []int{-1, 0, 8, 9, 10, 11, 12, 13, 14, 15}
	serverBits := []int{0, 8, 9, 10, 11, 12, 13, 14, 15}
	n := 0
	for _, sNC := range []bool{false, true} {
		for _, cNC := range []bool{false, true} {
			for _, cb := range clientBits {
				for _, sb := range serverBits {
					spec := offerSpec{sNC, cNC, sb, cb}
					for i := range deflateConfigs {
						c := &deflateConfigs[i]
						want, resp := spec.want(c)
						for style := 0; style < 3; style++ {
							checkNegotiate(t, []string{spec.render(style)}, c, want, true, resp)
							n++
						}
					}
				}
			}
		}
	}
	if n != 2*2*10*9*len(deflateConfigs)*3 {
		t.Fatalf("%d cases", n)
	}
}

// TestNegotiateDeflateClientWindowConfig checks the ClientMaxWindowBits
// configuration values, valid and not.
func TestNegotiateDeflateClientWindowConfig(t *testing.T) {
	for bits := -1; bits <= 16; bits++ {
		for _, offered := range []int{-1, 0, 8, 9, 12, 15} {
			spec := offerSpec{clientBits: offered}
			c := &upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: bits}
			want, resp := spec.want(c)
			checkNegotiate(t, []string{spec.render(0)}, c, want, true, resp)
		}
	}
	c := &upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 8}
	checkNegotiate(t, []string{"permessage-deflate; client_max_window_bits"}, c,
		dp(false, false, 15, 15), true, "permessage-deflate")
	checkNegotiate(t, []string{"permessage-deflate; client_max_window_bits=8"}, c,
		dp(false, false, 15, 8), true, "permessage-deflate; client_max_window_bits=8")
	c.ClientMaxWindowBits = 9
	checkNegotiate(t, []string{"permessage-deflate; client_max_window_bits"}, c,
		dp(false, false, 15, 9), true, "permessage-deflate; client_max_window_bits=9")
	checkNegotiate(t, []string{"permessage-deflate"}, c,
		dp(false, false, 15, 15), true, "permessage-deflate")
}

// malformedOffers are permessage-deflate offers a server must decline.
var malformedOffers = []string{
	// Parameters not defined for offers.
	"permessage-deflate; foo",
	"permessage-deflate; foo=1",
	"permessage-deflate; client_max_window_bits; bar",
	"permessage-deflate; server_no_context_takeover; x-webkit-deflate-frame",
	"permessage-deflate; client_max_window",
	"permessage-deflate; server_max_window_bits_=10",
	// The same parameter twice.
	"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	"permessage-deflate; client_no_context_takeover; client_no_context_takeover",
	"permessage-deflate; client_max_window_bits; client_max_window_bits",
	"permessage-deflate; client_max_window_bits; client_max_window_bits=10",
	"permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
	"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
	"permessage-deflate; server_max_window_bits=10; SERVER_MAX_WINDOW_BITS=11",
	"permessage-deflate; Server_No_Context_Takeover; server_no_context_takeover",
	// A value on a parameter without one.
	"permessage-deflate; server_no_context_takeover=1",
	"permessage-deflate; server_no_context_takeover=true",
	`permessage-deflate; client_no_context_takeover=""`,
	"permessage-deflate; client_no_context_takeover = x",
	// server_max_window_bits without a value.
	"permessage-deflate; server_max_window_bits",
	"permessage-deflate; server_max_window_bits; client_max_window_bits",
	"permessage-deflate; server_max_window_bits=",
	"permessage-deflate; server_max_window_bits= ",
	"permessage-deflate; server_max_window_bits=; client_max_window_bits",
	// Invalid window sizes.
	"permessage-deflate; server_max_window_bits=7",
	"permessage-deflate; server_max_window_bits=16",
	"permessage-deflate; server_max_window_bits=08",
	"permessage-deflate; server_max_window_bits=010",
	"permessage-deflate; server_max_window_bits=05",
	"permessage-deflate; server_max_window_bits=00",
	"permessage-deflate; server_max_window_bits=25",
	"permessage-deflate; server_max_window_bits=012",
	"permessage-deflate; server_max_window_bits=0",
	"permessage-deflate; server_max_window_bits=1",
	"permessage-deflate; server_max_window_bits=100",
	"permessage-deflate; server_max_window_bits=115",
	"permessage-deflate; server_max_window_bits=-8",
	"permessage-deflate; server_max_window_bits=+8",
	"permessage-deflate; server_max_window_bits=8.0",
	"permessage-deflate; server_max_window_bits=0x8",
	"permessage-deflate; server_max_window_bits=ten",
	"permessage-deflate; server_max_window_bits=1a",
	`permessage-deflate; server_max_window_bits=""`,
	`permessage-deflate; server_max_window_bits="7"`,
	`permessage-deflate; server_max_window_bits="16"`,
	`permessage-deflate; server_max_window_bits="08"`,
	`permessage-deflate; server_max_window_bits=" 10"`,
	`permessage-deflate; server_max_window_bits="10 "`,
	`permessage-deflate; server_max_window_bits="1 0"`,
	`permessage-deflate; server_max_window_bits="1;0"`,
	`permessage-deflate; server_max_window_bits="1,0"`,
	"permessage-deflate; client_max_window_bits=7",
	"permessage-deflate; client_max_window_bits=16",
	"permessage-deflate; client_max_window_bits=08",
	"permessage-deflate; client_max_window_bits=0",
	"permessage-deflate; client_max_window_bits=",
	"permessage-deflate; client_max_window_bits=abc",
	"permessage-deflate; client_max_window_bits=99999999999999999999999",
	`permessage-deflate; client_max_window_bits=""`,
	`permessage-deflate; client_max_window_bits="7"`,
	`permessage-deflate; client_max_window_bits="08"`,
	`permessage-deflate; client_max_window_bits="05"`,
	`permessage-deflate; client_max_window_bits="\0\8"`,
	// Syntax errors.
	"permessage-deflate;",
	"permessage-deflate ; ",
	"permessage-deflate; client_max_window_bits;",
	"permessage-deflate; client_max_window_bits ;\t",
	"permessage-deflate;; client_max_window_bits",
	"permessage-deflate; ; client_max_window_bits",
	"permessage-deflate; =10",
	"permessage-deflate; server_max_window_bits=10; =10",
	"permessage-deflate client_max_window_bits",
	"permessage-deflate, client_max_window_bits",
	"permessage-deflate; client_max_window_bits, server_no_context_takeover",
	"permessage-deflate; client max_window_bits",
	"permessage-deflate; client_max_window_bits 10",
	"permessage-deflate; server_max_window_bits=1 0",
	"permessage-deflate; server_max_window_bits==10",
	"permessage-deflate; server_max_window_bits=10=",
	"permessage-deflate; server_max_window_bits=10 x",
	`permessage-deflate; server_max_window_bits="10`,
	`permessage-deflate; server_max_window_bits="10\"`,
	`permessage-deflate; server_max_window_bits="10"x`,
	`permessage-deflate; server_max_window_bits="10" "10"`,
	`permessage-deflate; server_max_window_bits=10"`,
	`permessage-deflate; "client_max_window_bits"`,
	"permessage-deflate; client_max_window_bits\r\n",
	"permessage-deflate; client_max_window_bits=8\x00",
	"permessage-deflate;\nclient_max_window_bits",
	"permessage-deflate; client_max_window_bits=1\u0660",
	"permessage-deflate; cl\u00efent_max_window_bits",
}

// foreignOffers are extension offers that are not permessage-deflate.
var foreignOffers = []string{
	"x-webkit-deflate-frame",
	"x-webkit-deflate-frame; no_context_takeover",
	"deflate-frame",
	"foo; bar=1",
	`foo; bar="a,b"`,
	"permessage-deflate-x",
	"permessage-deflate2; client_max_window_bits",
	"permessage_deflate",
	"permessage-defl",
	"mux",
	"",
	"; permessage-deflate",
	`"permessage-deflate"`,
	"permessage-deflate=1",
	"permessage\u2010deflate",
}

// TestNegotiateDeflateDeclined checks that malformed and foreign offers
// are declined, alone and in a list, and never hide a later acceptable
// offer.
func TestNegotiateDeflateDeclined(t *testing.T) {
	const good = "permessage-deflate; client_max_window_bits=12; server_no_context_takeover"
	bad := append(append([]string(nil), malformedOffers...), foreignOffers...)
	for _, c := range deflateConfigs {
		wantGood, respGood := offerSpec{serverNoContext: true, clientBits: 12}.want(&c)
		for _, offer := range bad {
			checkNegotiate(t, []string{offer}, &c, DeflateParams{}, false, "")
			checkNegotiate(t, []string{offer, good}, &c, wantGood, true, respGood)
			checkNegotiate(t, []string{offer, offer, good, "permessage-deflate"}, &c, wantGood, true, respGood)
		}
		checkNegotiate(t, bad, &c, DeflateParams{}, false, "")
		checkNegotiate(t, append(bad[:len(bad):len(bad)], good), &c, wantGood, true, respGood)
		checkNegotiate(t, nil, &c, DeflateParams{}, false, "")
		checkNegotiate(t, []string{}, &c, DeflateParams{}, false, "")
	}
}

// TestNegotiateDeflateSyntax checks accepted spellings: case, whitespace,
// quoted values and quoted pairs.
func TestNegotiateDeflateSyntax(t *testing.T) {
	c := &upgrade.Compression{Enabled: true, ContextTakeover: true}
	tests := []struct {
		offer string
		want  DeflateParams
		resp  string
	}{
		{"permessage-deflate", dp(false, false, 15, 15), "permessage-deflate"},
		{" \tpermessage-deflate\t ", dp(false, false, 15, 15), "permessage-deflate"},
		{"PerMessage-Deflate", dp(false, false, 15, 15), "permessage-deflate"},
		{"PERMESSAGE-DEFLATE; CLIENT_MAX_WINDOW_BITS=9", dp(false, false, 15, 9),
			"permessage-deflate; client_max_window_bits=9"},
		{"permessage-deflate;Server_No_Context_Takeover;Client_No_Context_Takeover", dp(true, true, 15, 15),
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"permessage-deflate \t; \tserver_max_window_bits \t= \t12 \t", dpo(true, false, 12, 15),
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=12"},
		{`permessage-deflate; server_max_window_bits="10"`, dpo(true, false, 10, 15),
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
		{`permessage-deflate; server_max_window_bits = "9" ; client_max_window_bits="11"`, dpo(true, false, 9, 11),
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11"},
		{`permessage-deflate; server_max_window_bits="\1\0"`, dpo(true, false, 10, 15),
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
		{`permessage-deflate; client_max_window_bits="1\5"`, dp(false, false, 15, 15), "permessage-deflate"},
		{"permessage-deflate; server_max_window_bits=15", dpo(false, false, 15, 15),
			"permessage-deflate; server_max_window_bits=15"},
		{`permessage-deflate; SERVER_MAX_WINDOW_BITS="1\5"; client_max_window_bits`, dpo(false, false, 15, 15),
			"permessage-deflate; server_max_window_bits=15"},
		{"permessage-deflate; client_max_window_bits=9; server_max_window_bits=15; server_no_context_takeover", dpo(true, false, 15, 9),
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits=9"},
		{"permessage-deflate; client_max_window_bits=15; server_no_context_takeover", dp(true, false, 15, 15),
			"permessage-deflate; server_no_context_takeover"},
	}
	for _, tt := range tests {
		checkNegotiate(t, []string{tt.offer}, c, tt.want, true, tt.resp)
	}
}

// TestNegotiateDeflateDisabled checks that a disabled or missing
// configuration declines every offer.
func TestNegotiateDeflateDisabled(t *testing.T) {
	offers := []string{"permessage-deflate; client_max_window_bits", "permessage-deflate"}
	for _, c := range []*upgrade.Compression{nil, {}, {ContextTakeover: true, ClientMaxWindowBits: 10, Level: 9}} {
		if p, ok := NegotiateDeflate(offers, c); ok || p != (DeflateParams{}) {
			t.Fatalf("NegotiateDeflate with %+v = %+v, %v", c, p, ok)
		}
	}
}

// TestNegotiateDeflateClients negotiates the offers that real clients send,
// parsed from a complete handshake.
func TestNegotiateDeflateClients(t *testing.T) {
	const (
		both = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	)
	type result struct {
		p    DeflateParams
		resp string
	}
	tests := []struct {
		client string
		fields []string // Sec-WebSocket-Extensions field values
		want   [4]result
	}{
		{"Chrome", []string{"permessage-deflate; client_max_window_bits"}, [4]result{
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(false, false, 15, 10), "permessage-deflate; client_max_window_bits=10"},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 10), both + "; client_max_window_bits=10"},
		}},
		{"Firefox", []string{"permessage-deflate"}, [4]result{
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 15), both},
		}},
		{"Node ws, Python websockets", []string{"permessage-deflate; client_max_window_bits"}, [4]result{
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(false, false, 15, 10), "permessage-deflate; client_max_window_bits=10"},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 10), both + "; client_max_window_bits=10"},
		}},
		{"gorilla/websocket", []string{both}, [4]result{
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 15), both},
		}},
		{"old Safari", []string{"x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits"}, [4]result{
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(false, false, 15, 10), "permessage-deflate; client_max_window_bits=10"},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 10), both + "; client_max_window_bits=10"},
		}},
		{"RFC 7692 section 7.1.3", []string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits"}, [4]result{
			{dpo(true, false, 10, 15), "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
			{dpo(true, false, 10, 10), "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10"},
			{dpo(true, true, 10, 15), both + "; server_max_window_bits=10"},
			{dpo(true, true, 10, 10), both + "; server_max_window_bits=10; client_max_window_bits=10"},
		}},
		{"bad first offer", []string{`foo; bar="a,b", permessage-deflate; server_max_window_bits=16`, "permessage-deflate; Client_Max_Window_Bits"}, [4]result{
			{dp(false, false, 15, 15), "permessage-deflate"},
			{dp(false, false, 15, 10), "permessage-deflate; client_max_window_bits=10"},
			{dp(true, true, 15, 15), both},
			{dp(true, true, 15, 10), both + "; client_max_window_bits=10"},
		}},
	}
	for _, tt := range tests {
		var b strings.Builder
		b.WriteString("GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
		for _, v := range tt.fields {
			b.WriteString("Sec-WebSocket-Extensions: " + v + "\r\n")
		}
		b.WriteString("\r\n")
		req, _, err := ParseRequest([]byte(b.String()), 1<<16)
		if err != nil || req == nil {
			t.Fatalf("%s: ParseRequest = %v, %v", tt.client, req, err)
		}
		hs, err := CheckHandshake(req)
		if err != nil {
			t.Fatalf("%s: CheckHandshake: %v", tt.client, err)
		}
		for i := range deflateConfigs {
			t.Run(fmt.Sprintf("%s/%d", tt.client, i), func(t *testing.T) {
				checkNegotiate(t, hs.Extensions, &deflateConfigs[i], tt.want[i].p, true, tt.want[i].resp)
			})
		}
	}
}

// TestDeflateParamsString checks String and AppendResponse on values that
// NegotiateDeflate does not return as well as on those it does.
func TestDeflateParamsString(t *testing.T) {
	tests := []struct {
		p    DeflateParams
		want string
	}{
		{DeflateParams{}, "permessage-deflate"},
		{DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, "permessage-deflate"},
		{DeflateParams{ServerMaxWindowBits: 16, ClientMaxWindowBits: -1}, "permessage-deflate"},
		{DeflateParams{ServerMaxWindowBits: 7, ClientMaxWindowBits: 100}, "permessage-deflate"},
		{DeflateParams{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{DeflateParams{ServerMaxWindowBits: 9, ClientMaxWindowBits: 8},
			"permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"},
		{dp(true, true, 8, 15),
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8"},
		// A window of 15 is written only when the offer had
		// server_max_window_bits; out-of-range values never are.
		{dpo(false, false, 15, 15), "permessage-deflate; server_max_window_bits=15"},
		{dpo(false, false, 15, 9), "permessage-deflate; server_max_window_bits=15; client_max_window_bits=9"},
		{dpo(true, false, 8, 15), "permessage-deflate; server_no_context_takeover; server_max_window_bits=8"},
		{dpo(false, false, 0, 0), "permessage-deflate"},
		{dpo(false, false, 7, 15), "permessage-deflate"},
		{dpo(false, false, 16, 16), "permessage-deflate"},
		{dpo(true, true, 15, 14),
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=14"},
		{dp(true, true, 14, 14),
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=14; client_max_window_bits=14"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q; want %q", tt.p, got, tt.want)
		}
		if got := tt.p.AppendResponse([]byte("Sec-WebSocket-Extensions: ")); string(got) != "Sec-WebSocket-Extensions: "+tt.want {
			t.Errorf("%#v.AppendResponse = %q", tt.p, got)
		}
		if got := fmt.Sprint(tt.p); got != tt.want {
			t.Errorf("fmt.Sprint(%#v) = %q", tt.p, got)
		}
	}
	if n := len(tests[len(tests)-1].want); n != 128 {
		t.Errorf("longest response is %d bytes, String's buffer holds 128", n)
	}
}

// TestNegotiateDeflateAllocs checks that negotiation and AppendResponse do
// not allocate and String allocates only its result.
func TestNegotiateDeflateAllocs(t *testing.T) {
	offerLists := [][]string{
		{"permessage-deflate; client_max_window_bits"},
		{autobahnOffer(true, 8), autobahnOffer(true, 0)},
		{autobahnOffer(false, 15)},
		{"x-webkit-deflate-frame", `permessage-deflate; server_max_window_bits="1\0"; foo`, "PERMESSAGE-DEFLATE ; client_max_window_bits = \"9\""},
		malformedOffers,
	}
	c := &upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 12}
	buf := make([]byte, 0, 128)
	for _, offers := range offerLists {
		var p DeflateParams
		if n := testing.AllocsPerRun(100, func() { p, _ = NegotiateDeflate(offers, c) }); n != 0 {
			t.Errorf("NegotiateDeflate(%q) allocates %v times", offers, n)
		}
		if n := testing.AllocsPerRun(100, func() { buf = p.AppendResponse(buf[:0]) }); n != 0 {
			t.Errorf("AppendResponse allocates %v times", n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = p.String() }); n > 1 {
			t.Errorf("String allocates %v times", n)
		}
	}
}

func BenchmarkNegotiateDeflate(b *testing.B) {
	offers := []string{autobahnOffer(true, 8), "permessage-deflate; client_max_window_bits"}
	c := &upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 12}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		p, _ := NegotiateDeflate(offers, c)
		buf = p.AppendResponse(buf[:0])
	}
}
