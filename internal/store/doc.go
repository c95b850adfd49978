// Package store owns whet's metadata persistence: opening the SQLite
// (embedded default) or PostgreSQL database, the versioned schema
// migrations for both dialects, transactions with retry on contention,
// and id generation.
//
// Conventions every package that writes SQL through store follows:
//
//   - Queries are written with ? placeholders and passed through
//     (*DB).Rebind, which turns them into $1, $2, … on PostgreSQL.
//   - Ids are strings with a type prefix and a random suffix (NewID).
//   - Timestamps are stored as TEXT in both dialects, formatted by
//     FormatTime as UTC RFC 3339 with a fixed six-digit fraction
//     ("2006-01-02T15:04:05.000000Z"), so they sort and compare as strings
//     identically on SQLite and PostgreSQL. ParseTime reads them back.
//   - JSON payloads are stored as TEXT.
//   - Writes go through (*DB).Tx; on SQLite it serialises writers inside the
//     process (one writer at a time is what SQLite allows) and retries
//     SQLITE_BUSY; on PostgreSQL it retries serialization failures and
//     deadlocks. Tx must not be nested.
package store
