package natsbroker

// Stats are a Broker's counters since New, and its state now.
type Stats struct {
	// Published counts the messages handed to NATS (out).
	Published uint64
	// Received counts the messages of other nodes handed to deliver (in).
	Received uint64
	// Missed is the gap: messages of other nodes on subscribed topics that
	// never reached deliver. NATS core delivers at most once, so what is
	// published while this node is cut off from NATS is lost for it, and so
	// is what nats.go drops for a slow consumer (Config.ReceiveQueue).
	// Every message carries its origin's sequence number on its topic; a
	// missing one is counted when the origin's next message on the topic
	// arrives (messages lost at the very end of an origin's stream are
	// never seen missing). Messages published while this node was not
	// subscribed are not missed: a subscription's first message from an
	// origin is its baseline.
	Missed uint64
	// Stale counts messages that arrived after a later message of the same
	// origin on the same topic (possible only around a reconnect) and were
	// dropped to keep publish order. They are already counted in Missed.
	Stale uint64
	// Refused counts Publish calls that returned ErrBacklog or ErrTooLarge.
	Refused uint64
	// Errors counts the errors passed to Config.OnError.
	Errors uint64
	// Malformed counts received messages that were not volley envelopes
	// (something else publishes on the prefix's subjects).
	Malformed uint64
	// Disconnects and Reconnects count the connection's losses and
	// recoveries.
	Disconnects, Reconnects uint64
	// Subscriptions is the number of subjects subscribed to now.
	Subscriptions int
	// Pending is the bytes of messages Publish queued that are not yet
	// handed to NATS.
	Pending int
}

// Stats returns the broker's counters. Safe for concurrent use; each field
// is read atomically, not the struct as a whole.
func (b *Broker) Stats() Stats {
	b.subMu.Lock()
	subs := len(b.active)
	b.subMu.Unlock()
	b.mu.Lock()
	pending := b.pending
	b.mu.Unlock()
	return Stats{
		Published:     b.published.Load(),
		Received:      b.received.Load(),
		Missed:        b.missed.Load(),
		Stale:         b.stale.Load(),
		Refused:       b.refused.Load(),
		Errors:        b.errs.Load(),
		Malformed:     b.malformed.Load(),
		Disconnects:   b.disconnects.Load(),
		Reconnects:    b.reconnects.Load(),
		Subscriptions: subs,
		Pending:       pending,
	}
}
