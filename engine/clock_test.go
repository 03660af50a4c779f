package engine

import (
	"strings"
	"testing"
	"time"
)

func TestMomentWraps(t *testing.T) {
	const wrap = time.Duration(1<<32) * time.Millisecond // 49.7 days
	for _, start := range []time.Duration{0, time.Hour, wrap - 5*time.Second, wrap - time.Millisecond, wrap, 3*wrap + time.Minute} {
		now := momentOf(start)
		if now == 0 {
			t.Fatalf("momentOf(%v) = 0, which means none", start)
		}
		for _, d := range []time.Duration{time.Millisecond, 10 * time.Second, time.Hour, MaxTimeout} {
			deadline := now.add(d)
			if deadline == 0 {
				t.Errorf("%v + %v = 0", start, d)
			}
			if now.reached(deadline) {
				t.Errorf("at %v: a deadline %v ahead is already reached", start, d)
			}
			if !deadline.reached(now) || !deadline.reached(deadline) {
				t.Errorf("at %v: deadline %v ahead does not reach now or itself", start, d)
			}
			later := momentOf(start + d + time.Millisecond)
			if !later.reached(deadline) {
				t.Errorf("at %v: %v later does not reach the deadline %v ahead", start, d+time.Millisecond, d)
			}
			// 0 is skipped, so a difference may be off by a millisecond at the wrap.
			if got := later.sub(now); got < d || got > d+2*time.Millisecond {
				t.Errorf("at %v: sub = %v, want %v", start, got, d+time.Millisecond)
			}
			if got := now.sub(later); got > -d || got < -d-2*time.Millisecond {
				t.Errorf("at %v: reverse sub = %v, want %v", start, got, -d-time.Millisecond)
			}
			if deadline.later(now) != deadline || now.later(deadline) != deadline {
				t.Errorf("at %v: later(%v ahead) is not the deadline", start, d)
			}
		}
	}
}

func TestConfigMaxTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"HandshakeTimeout", func(c *Config) { c.HandshakeTimeout = MaxTimeout + time.Second }},
		{"IdleTimeout", func(c *Config) { c.IdleTimeout = MaxTimeout + time.Second }},
		{"CloseTimeout", func(c *Config) { c.CloseTimeout = MaxTimeout + time.Second }},
		{"IdleRelease", func(c *Config) { c.Upgrade.Compression.IdleRelease = MaxTimeout + time.Second }},
	} {
		var c Config
		tc.set(&c)
		if _, err := c.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "MaxTimeout") {
			t.Errorf("%s past MaxTimeout: err = %v", tc.name, err)
		}
		var ok Config
		ok.HandshakeTimeout, ok.IdleTimeout, ok.CloseTimeout, ok.Upgrade.Compression.IdleRelease = MaxTimeout, MaxTimeout, MaxTimeout, MaxTimeout
		if _, err := ok.withDefaults(); err != nil {
			t.Errorf("MaxTimeout itself: %v", err)
		}
	}
}
