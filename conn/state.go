package conn

import "fmt"

// State is the state of a WebSocket, following .NET's WebSocketState.
//
// Transitions:
//
//	StateConnecting    -> StateOpen           the 101 response was queued
//	StateOpen          -> StateCloseSent      Close (or the server) sent a close frame
//	StateOpen          -> StateCloseReceived  the peer's close frame was received
//	StateCloseSent     -> StateClosed         the peer's close frame was received
//	StateCloseReceived -> StateClosed         SendClose answered the peer
//	any but StateClosed -> StateAborted       Abort, a protocol failure, a timeout
//	                                          or the TCP connection ended early
//
// StateClosed and StateAborted are final.
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

// afterSendClose is the state after this side sends a close frame.
func (s State) afterSendClose() (State, bool) {
	switch s {
	case StateOpen:
		return StateCloseSent, true
	case StateCloseReceived:
		return StateClosed, true
	}
	return s, false
}

// afterReceiveClose is the state after the peer's close frame arrives.
func (s State) afterReceiveClose() (State, bool) {
	switch s {
	case StateOpen:
		return StateCloseReceived, true
	case StateCloseSent:
		return StateClosed, true
	}
	return s, false
}
