package upgrade

import "time"

// Compression configures permessage-deflate (RFC 7692). The zero value
// disables it: the extension is declined and every message travels as is.
//
// It is off by default because it is a trade a server should opt into: it
// costs CPU on both sides for every message, it can make short messages
// longer, context takeover holds up to two 32 KiB windows per connection,
// and compressing secrets together with attacker-chosen data leaks them by
// length (the CRIME/BREACH family). Chat and feed traffic (JSON, text)
// shrinks five to ten times with it.
type Compression struct {
	// Enabled accepts the first acceptable permessage-deflate offer.
	Enabled bool
	// ContextTakeover keeps the LZ77 window between messages, in both
	// directions where the client allows it: the best ratio for many small
	// similar messages, at the cost of a 32 KiB window per direction and
	// connection (see ClientMaxWindowBits). When false (the default), the
	// response carries server_no_context_takeover and
	// client_no_context_takeover: each message is compressed on its own
	// with pooled compressors, and an idle connection holds nothing.
	ContextTakeover bool
	// Level is the flate level, 1 (fastest, the default) to 9 (smallest).
	Level int
	// MinSize is the smallest message that is compressed; shorter messages
	// are sent as they are (RSV1 clear). 0 means 128 bytes; a negative value
	// compresses every message.
	MinSize int
	// ClientMaxWindowBits (9 to 15; 0 means 15) is asked of clients that
	// offer client_max_window_bits: with ContextTakeover, it bounds the
	// window the server keeps per connection for received messages.
	ClientMaxWindowBits int
	// IdleRelease is how long a connection with context takeover keeps its
	// compressor after its last compressed send; after that the compressor
	// goes back to the pool and only the window is kept. 0 means 5 seconds.
	IdleRelease time.Duration
}
