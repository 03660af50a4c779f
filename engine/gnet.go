package engine

import (
	"fmt"
	"log/slog"

	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/internal/logattr"
)

// gnetHandler adapts gnet's callbacks to the server. Every method runs on
// an event loop. (gnet's ticker is off: the server has its own, see
// ticker.go.)
type gnetHandler struct {
	gnet.BuiltinEventEngine
	s *Server
}

func (h *gnetHandler) OnBoot(eng gnet.Engine) gnet.Action {
	if err := h.s.boot(eng); err != nil {
		h.s.log(slog.LevelError, "volley: boot failed", slog.String(logattr.KeyAddr, h.s.cfg.Addr), logattr.Err(err))
		return gnet.Shutdown
	}
	return gnet.None
}

func (h *gnetHandler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := h.s
	switch v := gc.Context().(type) {
	case *loopQueue:
		v.doorbellOpened()
		return nil, gnet.None
	case *bridged:
		return nil, v.open(gc)
	}
	if s.bridge.probed(gc) || s.shutdown.Load() || s.cfg.BridgeOnly {
		return nil, gnet.Close
	}
	c := &connection{srv: s, gc: gc}
	gc.SetContext(c)
	c.setDue(s.now().add(s.cfg.HandshakeTimeout))
	s.mu.Lock()
	s.link(c)
	s.mu.Unlock()
	return nil, gnet.None
}

func (h *gnetHandler) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*connection)
	if !ok {
		if q, ok := gc.Context().(*loopQueue); ok {
			return q.doorbellTraffic(gc)
		}
		return gnet.Close
	}
	return c.traffic()
}

func (h *gnetHandler) OnClose(gc gnet.Conn, err error) gnet.Action {
	switch c := gc.Context().(type) {
	case *connection:
		c.halfClosed(err)
	case *loopQueue:
		c.closeDoorbell()
	}
	return gnet.None
}

// gnetLogger sends gnet's warnings and errors to the server's logger and
// drops its debug and info chatter.
type gnetLogger struct{ l *slog.Logger }

func (gnetLogger) Debugf(string, ...any) {}
func (gnetLogger) Infof(string, ...any)  {}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn("gnet: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error("gnet: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error("gnet: fatal: " + fmt.Sprintf(format, args...))
}
