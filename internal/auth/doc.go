// Package auth owns who a caller is and what it may do: organisations,
// users, role bindings and API keys in the metadata store; the roles →
// scopes table; API-key tokens (whet_<key id>_<secret>, stored as SHA-256
// hashes); whet's own OAuth2 client-credentials token endpoint issuing
// Ed25519-signed JWTs with a published JWKS; external OIDC bearer tokens
// verified against the provider's JWKS; per-organisation IP allow/deny
// lists; per-key token-bucket rate limits; and first-start bootstrap.
//
// Authentication on the hot path costs no write: API-key lookups are cached
// for a short TTL (revocation and rotation through this process invalidate
// the entry at once; other processes see them within the TTL), and
// last_used_at updates are batched and flushed periodically.
package auth
