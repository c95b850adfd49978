package api

// ProjectPageHits reports how many GET /v1/projects answers s served from
// its page cache.
func ProjectPageHits(s *Server) int64 { return s.pages.hits.Load() }
