package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// column is one column of a report table.
type column struct {
	head string
	cell func(*result) string
}

var (
	colConns = column{"conns", func(r *result) string {
		if len(r.Failed) > 0 {
			return fmt.Sprintf("%d/%d open", r.Opened, r.Conns)
		}
		return fmt.Sprint(r.Conns)
	}}
	colSent   = column{"sent", func(r *result) string { return mb(r.BytesSent) }}
	colStalls = column{"write stalls", func(r *result) string { return fmt.Sprint(r.WriteStalls) }}
	colClosed = column{"closed by server", func(r *result) string {
		return fmt.Sprintf("%d/%d", r.ServerClosed, r.Opened)
	}}
	colCloseTime = column{"time to close p50 / p99 / max", func(r *result) string {
		if r.CloseMS == nil {
			return "-"
		}
		return fmt.Sprintf("%s / %s / %s", ms(r.CloseMS.P50), ms(r.CloseMS.P99), ms(r.CloseMS.Max))
	}}
	colEnds       = column{"how connections ended", func(r *result) string { return endsString(r.Ends) }}
	colNotReading = column{"not read by the server at the end", func(r *result) string {
		if r.NotReading == 0 {
			return "0"
		}
		return fmt.Sprintf("%d conns, %s", r.NotReading, mb(r.Unread))
	}}
	colCPU = column{"server CPU", func(r *result) string { return fmt.Sprintf("%.1fs", r.ServerCPU) }}
	// what the drain read: the echoes the server had queued, and what it
	// still echoed once the client read
	colDrained = column{"echoes read afterwards", func(r *result) string {
		return fmt.Sprintf("%d (%s)", r.Echoes, mb(r.EchoBytes))
	}}
)

// count is a column with a count of whole frames or requests.
func count(head string) column {
	return column{head, func(r *result) string { return fmt.Sprint(r.Sent) }}
}

// tables are the columns of each scenario, after the server and its
// memory.
var tables = []struct {
	scenario string
	title    string
	cols     []column
}{
	{"pingflood", "pingflood: 125-byte pings as fast as possible, never reading", []column{
		colConns, colSent, count("pings"), colStalls, colNotReading, colClosed, colCloseTime, colEnds, colCPU}},
	{"pipeline", "pipeline: pipelined GETs on one keep-alive connection, never reading", []column{
		count("requests"), colSent, colStalls, colNotReading,
		{"answers read afterwards", func(r *result) string {
			if r.Responses == 0 {
				return "none"
			}
			return fmt.Sprintf("%d (%s)", r.Responses, countsString(r.HTTPStatus))
		}},
		colClosed, colCloseTime, colEnds, colCPU}},
	{"noread", "noread: binary messages whose echoes are never read", []column{
		colConns, {"message", func(r *result) string {
			if r.Rate > 0 {
				return fmt.Sprintf("%d B, %d/s", r.Size, r.Rate)
			}
			return fmt.Sprintf("%d B", r.Size)
		}}, colSent, count("messages"), colStalls, colNotReading, colDrained, colClosed, colCloseTime, colEnds, colCPU}},
	{"failnoread", "failnoread: output queued, then a frame that fails the connection, never reading", []column{
		colConns, {"sent before the failing frame", func(r *result) string { return mb(r.BytesSent) }},
		{"failing frame written / read by the server", func(r *result) string {
			return fmt.Sprintf("%d / %d", r.BadSent, r.BadRead)
		}},
		{"closed within the wait", func(r *result) string {
			return fmt.Sprintf("%d/%d (wait %gs)", r.ServerClosed, r.Opened, r.Wait)
		}},
		{"time to close after the failing frame p50 / p99 / max", colCloseTime.cell}, colEnds, colCPU}},
	{"bomb", "bomb: one compressed message inflating past the limit, all connections at once", []column{
		colConns, {"bomb", bombCell}, {"deflate accepted", deflateCell}, colClosed, colCloseTime,
		{"echoes", func(r *result) string { return fmt.Sprint(r.Echoes) }}, colEnds, colCPU}},
	{"bomb-under", "bomb -under: inflating to just under the limit, then idle", []column{
		colConns, {"message", bombCell}, {"deflate accepted", deflateCell},
		{"RSS idle after", func(r *result) string { return mib(r.RSSIdle) }},
		{"echoes", func(r *result) string { return fmt.Sprint(r.Echoes) }}, colClosed, colEnds, colCPU}},
	{"halfclose", "halfclose: a text message, then shutdown(SHUT_WR)", []column{
		{"echo back", func(r *result) string { return fmt.Sprintf("%d/%d", r.Got, r.Conns) }}, colEnds}},
	{"halfclose-close", "halfclose -close: a close frame, then shutdown(SHUT_WR)", []column{
		{"close reply back", func(r *result) string { return fmt.Sprintf("%d/%d", r.Got, r.Conns) }}, colEnds}},
	{"many", "many: connections at once flooding pings, 4 KiB and 64 KiB messages, never reading", []column{
		colConns, {"refused", func(r *result) string {
			if len(r.Failed) == 0 {
				return "0"
			}
			return countsString(r.Failed)
		}}, colSent, colStalls, colNotReading, colDrained, colClosed, colCloseTime, colEnds, colCPU}},
}

func bombCell(r *result) string {
	if r.Wire == 0 {
		return "-"
	}
	return fmt.Sprintf("%s → %s", mb(int64(r.Wire)), mib(r.Inflate))
}

func deflateCell(r *result) string { return fmt.Sprintf("%d/%d", r.Deflate, r.Opened) }

// report prints one Markdown table per scenario found in the JSON lines of
// files (the tool's output lines; other lines are skipped): a row per
// server (the label), in the order they come.
func report(w io.Writer, files []string) error {
	if len(files) == 0 {
		return errors.New("usage: hostile report FILE.jsonl [FILE.jsonl...] (no files given)")
	}
	var all []*result
	for _, f := range files {
		rs, err := readResults(f)
		if err != nil {
			return err
		}
		all = append(all, rs...)
	}
	for _, t := range tables {
		var rows []*result
		for _, r := range all {
			if r.Scenario == t.scenario {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "### %s\n\n", t.title)
		heads := []string{"server", "RSS before", "peak", "after"}
		for _, c := range t.cols {
			heads = append(heads, c.head)
		}
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
		for _, r := range rows {
			cells := []string{orDash(r.Label), mib(r.RSSBefore), peakCell(r), mib(r.RSSAfter)}
			if r.Error != "" && r.Opened == 0 && r.Got == 0 {
				cells = append(cells, "failed: "+r.Error)
				for range len(t.cols) - 1 {
					cells = append(cells, "")
				}
			} else {
				for _, c := range t.cols {
					cells = append(cells, c.cell(r))
				}
			}
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "|", "\\|")
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
		var notes []string
		for _, r := range rows {
			for _, n := range r.Notes {
				notes = append(notes, orDash(r.Label)+": "+n)
			}
			if r.Error != "" {
				notes = append(notes, orDash(r.Label)+": error: "+r.Error)
			}
		}
		fmt.Fprintln(w)
		if len(notes) > 0 {
			slices.Sort(notes)
			notes = slices.Compact(notes)
			for _, n := range notes {
				fmt.Fprintf(w, "- %s\n", n)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func peakCell(r *result) string {
	s := mib(r.RSSPeak)
	if r.RSSTripped {
		s += " (limit: clients stopped)"
	}
	if r.PID > 0 && !r.ServerAlive {
		s += " (server died)"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readResults reads the result lines of a file (lines that are JSON
// objects with a scenario).
func readResults(name string) ([]*result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Scenario == "" {
			continue
		}
		out = append(out, &r)
	}
	return out, sc.Err()
}
