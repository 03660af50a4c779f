package engine

// HeldCompressors reports how many connections of s hold a compressor.
func HeldCompressors(s *Server) int64 { return s.heldCompressors.Load() }

// TickerRuns reports how many times s's ticker has run.
func TickerRuns(s *Server) int64 { return s.ticks.runs.Load() }

// Buffered reports the bytes s's connections hold against its memory
// budget.
func Buffered(s *Server) int64 { return s.budget.used.Load() }

// Conns reports how many connections s has open.
func Conns(s *Server) int { return s.connCount() }
