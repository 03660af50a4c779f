package engine

// HeldCompressors reports how many connections of s hold a compressor.
func HeldCompressors(s *Server) int64 { return s.heldCompressors.Load() }
