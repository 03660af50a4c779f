package engine_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// tmEnv names the server address in the environment of the client
// process of TestTopicsTenThousandSubscribers.
const tmEnv = "VOLLEY_TEST_SUBSCRIBERS_ADDR"

const (
	tmSubscribers = 10_000
	tmMessages    = 20
)

// TestTopicsTenThousandSubscribers: 10,000 subscribers of one topic, half
// on each API, in a client process of their own (a process may hold 20,000
// files here: the server's 10,000 sockets and the clients' 10,000 do not
// fit in one). Each of 20 publishes reaches every subscriber once, in
// order.
func TestTopicsTenThousandSubscribers(t *testing.T) {
	if addr := os.Getenv(tmEnv); addr != "" {
		tmClients(t, addr)
		return
	}
	srv := tpServer(t, engine.Config{})
	cmd := exec.Command(os.Args[0], "-test.run=^TestTopicsTenThousandSubscribers$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), tmEnv+"="+srv.Addr().String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	lines := bufio.NewScanner(out)
	var log []string
	ready := false
	for !ready && lines.Scan() {
		log = append(log, lines.Text())
		ready = lines.Text() == "subscribed"
	}
	if !ready {
		t.Fatalf("the client process did not subscribe: %q", log)
	}
	tpAwait(t, srv, "many", tmSubscribers)
	start := time.Now()
	for i := range tmMessages {
		msg := binary.BigEndian.AppendUint32(nil, uint32(i))
		if err := srv.Publish("many", conn.Binary, msg); err != nil {
			t.Fatal(err)
		}
	}
	for lines.Scan() {
		log = append(log, lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client process: %v\n%s", err, strings.Join(log, "\n"))
	}
	t.Logf("%d deliveries in %v; %+v", tmSubscribers*tmMessages, time.Since(start).Round(time.Millisecond), srv.TopicStats())
	if st := srv.TopicStats(); st.Deliveries != tmSubscribers*tmMessages {
		t.Errorf("Deliveries %d, want %d", st.Deliveries, tmSubscribers*tmMessages)
	}
}

// tmClients is the client process: it opens the subscribers, says
// "subscribed" once all have their "hello", and checks what each
// receives.
func tmClients(t *testing.T, addr string) {
	conns := make([]net.Conn, tmSubscribers)
	var wg sync.WaitGroup
	var failed atomic.Int32
	sem := make(chan struct{}, 64)
	for i := range conns {
		path := "/ev"
		if i%2 == 1 {
			path = "/bl"
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c := faDial(t, addr, path+"?t=many")
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
			hello := make([]byte, 7)
			if _, err := io.ReadFull(c, hello); err != nil || string(hello[2:]) != "hello" {
				failed.Add(1)
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d subscribers did not get their hello", failed.Load())
	}
	fmt.Println("subscribed")
	for i, c := range conns {
		wg.Go(func() {
			defer c.Close()
			frame := make([]byte, 6)
			for want := range tmMessages {
				if _, err := io.ReadFull(c, frame); err != nil {
					t.Errorf("subscriber %d, message %d: %v", i, want, err)
					return
				}
				if frame[0] != 0x82 || frame[1] != 4 || binary.BigEndian.Uint32(frame[2:]) != uint32(want) {
					t.Errorf("subscriber %d: got %x, want message %d", i, frame, want)
					return
				}
			}
		})
	}
	wg.Wait()
	fmt.Println("received " + strconv.Itoa(tmSubscribers*tmMessages))
}
