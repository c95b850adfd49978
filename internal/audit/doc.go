// Package audit owns whet's tamper-evident audit log: one global hash chain
// of records, each hash = SHA-256(prev_hash ‖ canonical JSON of the record),
// appended inside the caller's transaction so a change and its record
// commit together. Verify walks the chain and names the first record that
// was edited, deleted or reordered; Export writes JSON Lines or CSV for
// compliance reports.
package audit
