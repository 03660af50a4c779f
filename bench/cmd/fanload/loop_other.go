//go:build !linux

package main

import (
	"errors"
	"net"
)

type engine struct{}

func newEngine(*load, int, []*net.TCPConn, [][]byte, []*fconn) (*engine, error) {
	return nil, errors.New("fanload needs Linux (epoll)")
}

func (*engine) start()                                           {}
func (*engine) wait()                                            {}
func (*engine) counts() (uint64, uint64, uint64, uint64, uint64) { return 0, 0, 0, 0, 0 }
func (*engine) tally() *tally                                    { return new(tally) }
