package conn

import "fmt"

// State is the state of a WebSocket, following .NET's WebSocketState. Both
// of volley's APIs report it (WebSocket.State, and engine.Conn.State for
// the event API).
//
// Transitions:
//
//	StateOpen          -> StateCloseSent      this side sent a close frame first
//	StateOpen          -> StateCloseReceived  the peer's close frame arrived first
//	StateCloseSent     -> StateClosed         the peer's close frame arrived
//	StateCloseReceived -> StateClosed         this side answered the peer's close
//	any but StateClosed -> StateAborted       Abort, a protocol failure, a timeout,
//	                                          or the TCP connection ended early
//
// StateConnecting is the zero value; a WebSocket handed to an application
// is already open. StateClosed and StateAborted are final: the WebSocket is
// closed, whatever the TCP connection still does.
type State int32

// The states of a WebSocket.
const (
	StateConnecting State = iota
	StateOpen
	StateCloseSent
	StateCloseReceived
	StateClosed
	StateAborted
)

var stateNames = [...]string{
	StateConnecting:    "Connecting",
	StateOpen:          "Open",
	StateCloseSent:     "CloseSent",
	StateCloseReceived: "CloseReceived",
	StateClosed:        "Closed",
	StateAborted:       "Aborted",
}

// String returns the state's name, as .NET spells it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// Final reports whether s is StateClosed or StateAborted.
func (s State) Final() bool { return s == StateClosed || s == StateAborted }
