package engine

// How the counters are kept (counts.go).
//
// Each event loop counts in a slot of its own (loopCounts, padded to a
// cache line apart): only that loop writes it, with an atomic load and
// store rather than a read-modify-write, and Stats adds the slots up. A
// connection finds its loop's slot by an index set at open (outbox.slot,
// in a byte of padding: no connection grows). What the loops do is counted
// where they do it: what the peer sends, as the reader delivers it; the
// handshakes they answer; the connections entering WebSocket mode and
// leaving the loop; topics' deliveries, once per publish and loop from the
// drain's count.
//
// What the application sends may be queued from any goroutine (a blocking
// handler, a goroutine sending to an event connection), and a shared
// counter per message is what this design avoids. So a frame is counted
// in the buffer it is queued into (sendBuf.tally), under the outbox lock
// its sender holds anyway, and the counts travel with the buffer to whoever
// writes it: the loop's flush adds them to the loop's slot. The exception
// is a blocking session's Flush, which writes from the session's own
// goroutine: it moves the buffer's counts of data frames into the session
// (session.Written, 16 bytes that only blocking connections have), and the
// server's ticker, which visits every connection under Server.mu at least
// once a second anyway, adds them to Server.offLoop and empties them
// (signals' carriedMark spares it the others); a connection that ends adds
// what its session still carries. A buffer holding anything else (a control
// frame, a refused send) is left to the loop. The few counts made off the
// loops and not per message (an afterlife's writes, a handler's refusal)
// take Server.mu; so do the accepted connections, counted with the
// registry.
//
// So Sent counts frames as they are written, and nothing per message is
// shared between goroutines; a blocking session's sends show within a
// tick of the ticker's scan (100ms while connections are active, 1s when
// idle).

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
	// counts until it serves one. A connection counts as open from the
	// moment its event loop switches it to WebSocket frames until it
	// leaves the loop (closed, or half-closed with its handler still at
	// work).
	Routes map[string]RouteStats
	// Refused counts the requests answered with an HTTP error instead of
	// 101, by status: those the server refuses itself (400 malformed, 403
	// origin, 404 no route for a WebSocket handshake, 408 request timeout,
	// 413 and 431 too large, 426 not a WebSocket handshake on an event
	// route or the wrong version, 503 over the memory budget or shutting
	// down, an OnHandshake's refusal, 500 for its panic), and the WebSocket
	// handshakes a blocking handler answered with a 4xx or 5xx (its own
	// refusal, or Upgrade's).
	Refused map[int]uint64

	// Received and Sent count the WebSocket messages and control frames
	// by type, and their payload bytes (after inflating what came
	// compressed, before compressing what goes): a fragmented message
	// counts once when its last fragment arrives or leaves. Received
	// counts the whole, valid messages delivered to the application.
	// Sent counts what the server wrote for its peers (to the socket, or
	// to gnet's buffer), and topics' deliveries as they are queued; what
	// an aborted connection still had queued is not counted.
	Received, Sent MessageStats

	// ClosesSent and ClosesReceived count the close frames the server sent
	// and received, by status code. Codes 1000 to 1015 count as
	// themselves; 3000-3999 count as 3000 and 4000-4999 as 4000; a close
	// frame without a code counts as 1005. ClosesReceived also counts, as
	// 1006, the WebSocket connections that left their loop without a
	// valid close frame from the peer. Codes with no count are not in the
	// maps.
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
// them when Config.Broker is one. BrokerStats may be called from any
// goroutine. (Its name leaves Stats to a broker's own, richer counters.)
type StatsBroker interface {
	Broker
	BrokerStats() BrokerStats
}

// Stats returns a snapshot of the server's counters. It costs a pass over
// the event loops' counters and a few small maps; call it when asked (a
// scrape, a page), not per message. Any goroutine.
func (s *Server) Stats() Stats {
	st := Stats{
		Routes:         make(map[string]RouteStats, len(s.routes)),
		Refused:        make(map[int]uint64),
		ClosesSent:     make(map[uint16]uint64),
		ClosesReceived: make(map[uint16]uint64),
		Buffered:       s.budget.used.Load(),
		Topics:         s.TopicStats(),
	}
	routes := make([]RouteStats, len(s.routePaths))
	s.mu.Lock()
	st.Connections = s.nconns
	st.Accepted = s.accepted
	st.sum(&s.offLoop, routes)
	for i := range s.counts {
		if lc := &s.counts[i]; lc.el != nil {
			st.sum(lc, routes)
		}
	}
	for status, n := range s.refusedOther {
		st.Refused[status] += n
	}
	s.mu.Unlock()
	for path, r := range s.routes {
		rs := routes[r.idx]
		rs.Events = r.events != 0
		st.Routes[path] = rs
	}
	if b, ok := s.cfg.Broker.(StatsBroker); ok {
		st.Broker = b.BrokerStats()
	}
	return st
}

// sum adds lc's counts to st, and its routes' to routes.
func (st *Stats) sum(lc *loopCounts, routes []RouteStats) {
	st.Received.add(&lc.recv)
	st.Sent.add(&lc.sent)
	st.SendQueueFull += lc.full.Load()
	for b := range closeBuckets {
		if n := lc.closesSent[b].Load(); n != 0 {
			st.ClosesSent[bucketCode(b)] += n
		}
		if n := lc.closesRecv[b].Load(); n != 0 {
			st.ClosesReceived[bucketCode(b)] += n
		}
	}
	for i := range lc.refused {
		if n := lc.refused[i].Load(); n != 0 {
			st.Refused[400+i] += n
		}
	}
	for i := range min(len(lc.routes), len(routes)) {
		rc := &lc.routes[i]
		left := rc.left.Load() // first: a connection counts upgraded before it leaves
		up := rc.upgraded.Load()
		routes[i].Upgraded += up
		routes[i].Open += int(up - left)
	}
}

// add adds m's counts.
func (ms *MessageStats) add(m *msgCounts) {
	ms.Text += m.text.Load()
	ms.Binary += m.binary.Load()
	ms.Ping += m.ping.Load()
	ms.Pong += m.pong.Load()
	ms.Close += m.close.Load()
	ms.Bytes += m.bytes.Load()
}
