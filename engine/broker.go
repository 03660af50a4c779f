package engine

import "github.com/volley-ws/volley/conn"

// Broker carries topic publishes between the nodes of a cluster, so that a
// message published on one node reaches the subscribers of every node
// (Config.Broker). Without one, topics are in-process.
//
// The server calls Subscribe when a topic gets its first subscriber on this
// node and Unsubscribe after its last one leaves, in that order for any one
// topic, so a node receives only the topics it serves. It calls Publish
// once for each message published on this node; the node delivers its own
// publishes itself, so a broker must not hand them back to it. Messages
// from other nodes come in through the deliver function given to Start.
//
// The methods are called from event loops and handler goroutines: they
// must not block on the network (queue and return). The github.com/
// volley-ws/volley/nats module implements Broker over NATS.
type Broker interface {
	// Start is called once, by Server.Start, before any other method.
	// deliver hands a message published on another node to this node's
	// subscribers of topic; it may be called from any goroutine, never
	// waits for a peer, and copies data before it returns.
	Start(deliver func(topic string, t conn.MessageType, data []byte)) error
	// Subscribe asks for the messages other nodes publish to topic.
	Subscribe(topic string) error
	// Unsubscribe stops them.
	Unsubscribe(topic string) error
	// Publish sends a message published on this node to the other nodes.
	// data is valid only during the call.
	Publish(topic string, t conn.MessageType, data []byte) error
	// Close is called once, by Server.Shutdown, after the last delivery.
	Close() error
}
