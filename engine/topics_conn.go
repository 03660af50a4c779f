package engine

import "github.com/volley-ws/volley/conn"

// The topic methods of both APIs: the event API's Conn, and the blocking
// WebSocket's (a connection is its session.Transport).

// Subscribe adds the connection to topic's subscribers: every message
// published to topic (Server.Publish, or another connection's Publish, on
// this node or, with a Config.Broker, on any node) is sent to it, in each
// publisher's order and after whatever was sent to it before the publish.
// Subscribing twice is one subscription; subscriptions end with the
// connection. It returns an error wrapping conn.ErrInvalidTopic for a bad
// name, conn.ErrClosed once the connection is closed, or the broker's
// error when it refused the topic's first subscription on this node. Any
// goroutine. A subscription holds about 70 bytes (BenchmarkSubscription).
func (e *Conn) Subscribe(topic string) error { return e.c().Subscribe(topic) }

// Unsubscribe removes the connection from topic's subscribers; it is not
// an error when it was not one. Any goroutine.
func (e *Conn) Unsubscribe(topic string) error { return e.c().Unsubscribe(topic) }

// Publish sends data as one message of type t to every subscriber of topic
// except this connection (see Server.Publish). data is not kept after
// Publish returns. Any goroutine; never waits for a peer.
func (e *Conn) Publish(topic string, t conn.MessageType, data []byte) error {
	return e.c().Publish(topic, t, data)
}

// Topics returns the topics the connection is subscribed to, in the order
// it subscribed. Any goroutine.
func (e *Conn) Topics() []string { return e.c().Topics() }

// Subscribe implements session.Transport.
func (c *connection) Subscribe(topic string) error { return c.srv.subscribe(c, topic) }

// Unsubscribe implements session.Transport.
func (c *connection) Unsubscribe(topic string) error { return c.srv.unsubscribe(c, topic) }

// Publish implements session.Transport.
func (c *connection) Publish(topic string, t conn.MessageType, data []byte) error {
	return c.srv.publish(topic, t, data, c)
}

// Topics implements session.Transport.
func (c *connection) Topics() []string { return c.srv.connTopicNames(c) }
