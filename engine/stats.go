package engine

// Stats is a snapshot of a server's counters, for metrics and health
// pages. Counters (the uint64 fields and the maps' values) only grow over
// the server's life; the others are levels at the time of the snapshot.
// The event loops count on their own, without shared atomics, and Stats
// sums their counts when asked, so a snapshot is consistent per loop but
// not across loops: two fields may be a few events apart.
type Stats struct {
	// Connections are the TCP connections open now (plain HTTP, in a
	// handshake, WebSocket or closing); Accepted counts every one the
	// server took (its listener's and the net/http bridge's).
	Connections int
	Accepted    uint64
	// Routes are the WebSocket connections open now and the handshakes
	// answered 101, per route (the path given to HandleFunc or
	// HandleEvents). Every route the server has is in the map, with zero
	// counts until it serves one.
	Routes map[string]RouteStats
	// Refused counts the WebSocket handshakes answered with an HTTP error
	// instead of 101, by status (400 malformed, 403 origin, 404 no route,
	// 426 version, 503 over the memory budget or shutting down, and
	// whatever a handler answered).
	Refused map[int]uint64

	// Received and Sent count the WebSocket messages and control frames
	// by type, and their payload bytes (after inflating what came
	// compressed, before compressing what goes): a fragmented message
	// counts once when its last fragment arrives or leaves. Sent counts
	// what the server queued for its peers, topics' deliveries included.
	Received, Sent MessageStats

	// ClosesSent and ClosesReceived count the close frames the server sent
	// and received, by status code. Codes 1000 to 1015 count as
	// themselves; 3000-3999 count as 3000 and 4000-4999 as 4000; a close
	// frame without a code counts as 1005. ClosesReceived also counts, as
	// 1006, the WebSocket connections that ended without a close frame
	// from the peer.
	ClosesSent, ClosesReceived map[uint16]uint64

	// SendQueueFull counts the sends refused or made to wait because the
	// connection's unsent bytes would pass MaxUnsentBytes
	// (conn.ErrSendQueueFull, or a blocking Send that waited for room).
	SendQueueFull uint64
	// Buffered is the bytes all connections hold now between the network
	// and the application (unsent, unread, messages awaiting Receive),
	// against Config.MaxBufferedBytes.
	Buffered int64

	// Topics are the counters of the topics on this node.
	Topics TopicStats
	// Broker is the broker's own counters, when Config.Broker reports
	// them (a StatsBroker); the zero value otherwise.
	Broker BrokerStats
}

// RouteStats are a route's WebSocket connections.
type RouteStats struct {
	// Events reports whether the route is an event route (HandleEvents);
	// false for a blocking one (HandleFunc).
	Events bool
	// Open is its WebSocket connections open now; Upgraded counts its
	// handshakes answered 101.
	Open     int
	Upgraded uint64
}

// MessageStats count the messages of one direction by type, and their
// payload bytes.
type MessageStats struct {
	Text, Binary, Ping, Pong, Close uint64
	// Bytes is the payload bytes of the text and binary messages.
	Bytes uint64
}

// BrokerStats are a broker's counters of the traffic between this node
// and the others (see StatsBroker).
type BrokerStats struct {
	// Out counts the messages handed to the other nodes, In the messages
	// received from them.
	Out, In uint64
	// Reconnects counts the times the broker lost its connection and got
	// it back; Dropped the messages it knows it lost (refused for a full
	// backlog, or dropped by a slow consumer).
	Reconnects, Dropped uint64
	// Connected reports whether the broker is connected now.
	Connected bool
}

// StatsBroker is a Broker that reports its counters; Server.Stats reads
// them when Config.Broker is one. Stats may be called from any goroutine.
type StatsBroker interface {
	Broker
	Stats() BrokerStats
}

// Stats returns a snapshot of the server's counters. It costs a pass over
// the event loops and a few small maps; call it when asked (a scrape, a
// page), not per message. Any goroutine.
func (s *Server) Stats() Stats {
	st := Stats{
		Routes:         make(map[string]RouteStats, len(s.routes)),
		Refused:        make(map[int]uint64),
		ClosesSent:     make(map[uint16]uint64),
		ClosesReceived: make(map[uint16]uint64),
		Buffered:       s.budget.used.Load(),
		Topics:         s.TopicStats(),
	}
	for path, r := range s.routes {
		st.Routes[path] = RouteStats{Events: r.events != 0}
	}
	s.mu.Lock()
	st.Connections = s.nconns
	s.mu.Unlock()
	if b, ok := s.cfg.Broker.(StatsBroker); ok {
		st.Broker = b.Stats()
	}
	return st
}
