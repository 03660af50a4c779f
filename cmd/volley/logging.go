package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// logOptions are the command line's logging flags. Logs go to stderr
// (stdout has the line saying where the server listens).
type logOptions struct {
	level  string    // -log-level: debug, info, warn or error
	format string    // -log-format: text or json
	access bool      // -access-log: a record per handshake
	out    io.Writer // nil: os.Stderr (tests set it)
}

// register adds the logging flags to fs.
func (l *logOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "the least severe records logged: debug (also refused handshakes and failed connections), info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log records as text (key=value) or json (one object per line)")
	fs.BoolVar(&l.access, "access-log", false, "log every WebSocket handshake answered (peer, route, status, subprotocol, compression, duration), whatever -log-level")
}

// logLevels are -log-level's values.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// check returns an error naming the flag of a bad value.
func (l *logOptions) check() error {
	if _, ok := logLevels[strings.ToLower(l.level)]; !ok {
		return fmt.Errorf("volley: -log-level must be debug, info, warn or error, not %q", l.level)
	}
	if l.format != "text" && l.format != "json" {
		return fmt.Errorf("volley: -log-format must be text or json, not %q", l.format)
	}
	return nil
}

// loggers returns the server's logger and its access log (nil without
// -access-log: the access log's records are at Info, and it logs them
// whatever -log-level says). The options must have passed check.
func (l *logOptions) loggers() (logger, access *slog.Logger) {
	out := l.out
	if out == nil {
		out = os.Stderr
	}
	logger = slog.New(l.handler(out, logLevels[strings.ToLower(l.level)]))
	if l.access {
		access = slog.New(l.handler(out, slog.LevelInfo))
	}
	return logger, access
}

// handler returns the handler of -log-format writing records at level and
// up to out.
func (l *logOptions) handler(out io.Writer, level slog.Level) slog.Handler {
	o := &slog.HandlerOptions{Level: level}
	if l.format == "json" {
		return slog.NewJSONHandler(out, o)
	}
	return slog.NewTextHandler(out, o)
}
