// Package api is whet's HTTP API: the huma v2 operations on the standard
// library ServeMux (OpenAPI 3.1 generated from the Go types at
// /openapi.json), RFC 9457 problem+json errors, authentication and
// per-key rate limits, request ids, JSON access logs and Prometheus
// metrics, plus the wire types and the typed Go Client that the CLI and
// end-to-end tests share.
//
// Each area registers its routes from its own file with a method
// func (s *Server) registerXxx(api huma.API); handlers get the caller from
// principal(ctx), check scopes with s.require, and turn domain errors into
// problems with s.problem, which never leaks internal error text in a 5xx.
package api
