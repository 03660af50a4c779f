// Package natsbroker is a volley engine.Broker over NATS core: it carries the
// messages published on one volley server to the subscribers of the same
// topic on every other server, so that several nodes behind a load
// balancer serve one set of topics.
//
//	b, err := natsbroker.Connect("nats://10.0.0.1:4222,nats://10.0.0.2:4222", natsbroker.Config{})
//	if err != nil {
//		return err
//	}
//	srv := engine.New(engine.Config{Addr: ":8080", Broker: b})
//	// Server.Start starts the broker, Server.Shutdown closes it.
//
// It lives in a module of its own
// (github.com/volley-ws/volley/engine/natsbroker), so a program that imports only volley's engine does not depend on nats.go.
//
// # Delivery
//
// A node subscribes to a topic's subject when the topic gets its first
// local subscriber and unsubscribes after the last one leaves (the engine
// calls Subscribe and Unsubscribe), so NATS sends a publish once to each
// node with subscribers, and never back to its own: the connection uses
// nats.NoEcho, and the engine delivers a node's publishes to its local
// subscribers itself. Messages of one publishing node on one topic arrive
// in the order it published them.
//
// NATS core delivers at most once. What is published while a node is cut
// off from NATS (its server died, the network broke; nats.go reconnects,
// to another server of the cluster if it knows any) is lost for that node,
// and so is what nats.go drops when the node falls behind
// (Config.ReceiveQueue). The broker counts these losses: each message
// carries its origin (a random id per broker) and its sequence number among
// that origin's messages on its topic, and a receiver adds every skipped
// number to Stats.Missed when the origin's next message arrives. Stats
// also counts messages out and in, disconnects and reconnects.
//
// # Subjects
//
// A topic travels on the subject Config.Prefix (default "volley.") +
// EscapeTopic(topic). The escaping keeps the topic's dots as the subject's
// token separators, so "chat.room-1" is "volley.chat.room-1" and NATS tools
// can watch a subtree ("volley.chat.>"). Within a dot-separated segment,
// the bytes A-Z, a-z, 0-9, '-' and '_' (the characters NATS recommends)
// stand for themselves and every other byte is written "%XX" with two
// upper-case hex digits, as in URL percent-encoding: '*', '>', '%', '$',
// spaces, control characters and each byte of a non-ASCII character. An
// empty segment (a topic that starts or ends with a dot, or has two in a
// row) is the token "%", which nothing else encodes to:
//
//	chat.room-1   volley.chat.room-1
//	chat.*        volley.chat.%2A
//	user:42       volley.user%3A42
//	café          volley.caf%C3%A9
//	a..b          volley.a.%.b
//
// Every valid topic (1 to 1024 bytes of UTF-8 without NUL, the engine's
// rule) becomes a legal literal subject of printable ASCII. The encoding is
// canonical, so it is reversible both ways: UnescapeTopic (and
// Broker.Topic) accept exactly what EscapeTopic (and Broker.Subject)
// return. An escaped topic is at most 3072 bytes, which with the longest
// prefix (MaxPrefixLen, 512) keeps every protocol line within
// nats-server's default 4096-byte max_control_line.
//
// # Messages
//
// The NATS message is the WebSocket message behind a 17-byte envelope:
//
//	byte 0      format version (high nibble, 1) and conn.MessageType (low
//	            nibble): 0x11 text, 0x12 binary
//	bytes 1-8   origin: the publishing broker's random id, big-endian
//	bytes 9-16  sequence number of the message among the origin's messages
//	            on its topic, from 1, big-endian
//	bytes 17-   the message
//
// The type and counters travel in the payload rather than in NATS headers:
// nats.go parses a header block into an http.Header map for every message
// it receives, and the smallest header block is longer than this whole
// envelope, which is written with the message into one buffer and read
// with three loads. A message and its envelope must fit the server's
// max_payload (1 MiB by default).
//
// # Goroutines
//
// Publish, Subscribe and Unsubscribe run on the engine's event loops: they
// never wait for the network, but queue (Publish copies the message) and
// return. Between Start and Close the broker runs two goroutines: a sender
// that hands the queue to nats.go in order, and a receiver that calls the
// engine's deliver function with the messages of every subscription, one at
// a time. nats.go runs its own (a reader, a flusher, a callback
// dispatcher) for the connection.
//
// # Testing
//
// The tests embed real nats-server instances (a three-node cluster) in the
// test process, and run volley servers with WebSocket clients on them;
// they listen on 127.0.0.1 only. In this directory:
//
//	go test -race ./...
//	go test -run '^$' -fuzz FuzzEscapeTopic -fuzztime 1m
//	go test -run '^$' -fuzz FuzzUnescapeTopic -fuzztime 1m
package natsbroker
