package natsbroker

import "github.com/volley-ws/volley/engine"

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
	// Failed counts the publishes nats.go refused after Publish queued
	// them (the connection closed, its reconnect buffer full): lost for
	// the other nodes. They are counted in Errors too.
	Failed uint64
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
		Failed:        b.failed.Load(),
		Errors:        b.errs.Load(),
		Malformed:     b.malformed.Load(),
		Disconnects:   b.disconnects.Load(),
		Reconnects:    b.reconnects.Load(),
		Subscriptions: subs,
		Pending:       pending,
	}
}

// BrokerStats implements engine.StatsBroker: the counters the engine's
// Server.Stats reports as Stats.Broker. Out is Published, In is Received;
// Dropped is what the broker knows was lost: Refused and Failed (this
// node's publishes that never reached NATS) and Missed (other nodes'
// messages that never reached this one). Connected is the NATS
// connection's state now. Safe for concurrent use.
func (b *Broker) BrokerStats() engine.BrokerStats {
	return engine.BrokerStats{
		Out:        b.published.Load(),
		In:         b.received.Load(),
		Reconnects: b.reconnects.Load(),
		Dropped:    b.refused.Load() + b.failed.Load() + b.missed.Load(),
		Connected:  b.nc.IsConnected(),
	}
}
