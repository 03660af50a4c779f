// Package logattr names the attributes of volley's log records, so that
// the engine, the NATS broker and cmd/volley log the same thing under the
// same key, and builds them. The keys and what each record carries are
// documented for users on engine.Config.Logger.
//
// The builders allocate only what slog.Attr itself needs (a string for an
// address); code on an event loop checks slog.Logger.Enabled before it
// calls them, so a disabled level costs nothing.
package logattr

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/volley-ws/volley/conn"
)

// The attribute keys.
const (
	KeyRemote      = "remote"      // the peer's address, host:port
	KeyRoute       = "route"       // the request path (routes are exact paths)
	KeyAPI         = "api"         // APIBlocking or APIEvent
	KeyStatus      = "status"      // the HTTP status answered
	KeyCode        = "code"        // a WebSocket close code
	KeyReason      = "reason"      // why: a refusal's body, a close's reason
	KeyErr         = "err"         // an error
	KeyTopic       = "topic"       // a topic name
	KeySubprotocol = "subprotocol" // the negotiated subprotocol, "" for none
	KeyCompression = "compression" // whether permessage-deflate was negotiated
	KeyDuration    = "duration"    // from the request's arrival to its answer
	KeyPanic       = "panic"       // a recovered panic's value
	KeyStack       = "stack"       // the stack of a recovered panic
	KeyBuffered    = "buffered"    // bytes held against the memory budget
	KeyBudget      = "budget"      // the memory budget, bytes
	KeyAddr        = "addr"        // a listening address
	KeyURL         = "url"         // a server connected to (NATS)
	KeySuppressed  = "suppressed"  // records left out since the last one
)

// The values of KeyAPI.
const (
	APIBlocking = "blocking"
	APIEvent    = "event"
)

// Remote is the KeyRemote attribute of a; "" when a is nil.
func Remote(a net.Addr) slog.Attr {
	if a == nil {
		return slog.String(KeyRemote, "")
	}
	return slog.String(KeyRemote, a.String())
}

// Route is the KeyRoute attribute.
func Route(path string) slog.Attr { return slog.String(KeyRoute, path) }

// API is the KeyAPI attribute: APIEvent when event, else APIBlocking.
func API(event bool) slog.Attr {
	if event {
		return slog.String(KeyAPI, APIEvent)
	}
	return slog.String(KeyAPI, APIBlocking)
}

// Status is the KeyStatus attribute.
func Status(status int) slog.Attr { return slog.Int(KeyStatus, status) }

// Code is the KeyCode attribute.
func Code(code conn.StatusCode) slog.Attr { return slog.Int(KeyCode, int(code)) }

// Reason is the KeyReason attribute.
func Reason(reason string) slog.Attr { return slog.String(KeyReason, reason) }

// Err is the KeyErr attribute.
func Err(err error) slog.Attr { return slog.Any(KeyErr, err) }

// Topic is the KeyTopic attribute.
func Topic(topic string) slog.Attr { return slog.String(KeyTopic, topic) }

// Duration is the KeyDuration attribute.
func Duration(d time.Duration) slog.Attr { return slog.Duration(KeyDuration, d) }

// Panic is the KeyPanic attribute: v formatted as fmt's %v does, so that
// every handler prints it the same way.
func Panic(v any) slog.Attr { return slog.String(KeyPanic, fmt.Sprint(v)) }

// Stack is the KeyStack attribute.
func Stack(stack []byte) slog.Attr { return slog.String(KeyStack, string(stack)) }
