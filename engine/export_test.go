package engine

// HeldCompressors reports how many connections of s hold a compressor.
func HeldCompressors(s *Server) int64 { return s.heldCompressors.Load() }

// TickerRuns reports how many times s's ticker has run.
func TickerRuns(s *Server) int64 { return s.ticks.runs.Load() }
