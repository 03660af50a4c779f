package codec_test

import (
	"fmt"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

func ExampleParseHeader() {
	// A masked text frame "Hello" as a client sends it (RFC 6455 5.7),
	// arriving in two pieces.
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}

	h, n, err := codec.ParseHeader(frame[:3])
	fmt.Println("after 3 bytes:", n, err) // n == 0: need more data

	h, n, err = codec.ParseHeader(frame)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := codec.CheckHeader(h, codec.FromClient, 0, false); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("fin=%t op=%d masked=%t length=%d header=%d bytes\n",
		h.Fin, h.OpCode, h.Masked, h.Length, n)

	// Unmask the payload in place, here in two chunks: the offset is the
	// number of payload bytes already unmasked.
	payload := frame[n : n+int(h.Length)]
	codec.Mask(payload[:2], h.Mask, 0)
	codec.Mask(payload[2:], h.Mask, 2)
	fmt.Printf("%s\n", payload)
	// Output:
	// after 3 bytes: 0 <nil>
	// fin=true op=1 masked=true length=5 header=6 bytes
	// Hello
}

func ExampleValidator() {
	var v codec.Validator

	// "€" is E2 82 AC; a split inside it is fine.
	fmt.Println(v.Write([]byte("price: \xe2\x82")), v.Complete())
	fmt.Println(v.Write([]byte("\xac 5")), v.Complete())

	// ED A0 starts a surrogate, which can never be valid: Write fails at
	// once, before the sequence is finished.
	v.Reset()
	fmt.Println(v.Write([]byte("ok \xed\xa0")))
	fmt.Println(v.Write([]byte("more")), v.Complete()) // stays failed
	// Output:
	// true false
	// true true
	// false
	// false false
}

func ExampleParseClosePayload() {
	code, reason, err := codec.ParseClosePayload([]byte("\x03\xe8bye"))
	fmt.Println(code, string(reason), err)

	_, _, err = codec.ParseClosePayload([]byte{0x03, 0xee}) // 1006 is local-only
	fmt.Println(err)

	fmt.Printf("% x\n", codec.AppendClosePayload(nil, conn.StatusTryAgainLater, "busy"))
	// Output:
	// NormalClosure bye <nil>
	// conn: close 1002 (ProtocolError): invalid close code
	// 03 f5 62 75 73 79
}

func ExampleParseWireHeader() {
	// The frame of ExampleParseHeader, read the hot-path way.
	frame := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}

	h, n, err := codec.ParseWireHeader(frame)
	if err == nil {
		err = h.Check(codec.FromClient, 0, false)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	payload := frame[n : n+int(h.Length)]
	codec.Mask(payload, h.Key(), 0)
	fmt.Printf("op=%d %s\n", h.OpCode(), payload)

	// The reply, as a server frames it: unmasked.
	reply := codec.AppendFrame(nil, true, 0, h.OpCode(), payload)
	fmt.Printf("% x\n", reply)
	// Output:
	// op=1 Hello
	// 81 05 48 65 6c 6c 6f
}

func ExampleAppendMaskedFrame() {
	// A client's frame: masked with a key it picks at random for every
	// frame (a fixed one here, to show the bytes).
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	frame := codec.AppendMaskedFrame(nil, true, 0, codec.OpText, key, []byte("Hello"))
	fmt.Printf("% x\n", frame)

	// The server reads it back.
	h, n, _ := codec.ParseHeader(frame)
	fmt.Println(codec.CheckHeader(h, codec.FromClient, 0, false), h.OpCode, h.Length)
	codec.Mask(frame[n:], h.Mask, 0)
	fmt.Printf("%s\n", frame[n:])
	// Output:
	// 81 85 37 fa 21 3d 7f 9f 4d 51 58
	// <nil> text 5
	// Hello
}
