//go:build !linux

package main

import (
	"errors"
	"net"
)

type epollEngine struct{ engine }

func newEpollEngine(*load, int, []*net.TCPConn, [][]byte, []*stream) (*epollEngine, error) {
	return nil, errors.New("the epoll engine needs Linux: use -engine goroutine")
}
