// Package jobs owns whet's durable job queue: long work (training runs,
// ingestion, indexing) is a row in the metadata database that any number of
// workers, in-process or in separate `whet worker` processes on other hosts,
// claim under a lease.
//
// Lifecycle. Enqueue inserts a queued job. A worker claims it (SQLite: the
// database write lock; PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED), which
// makes it running under a lease: a per-claim token in lease_owner and an
// expiry that the worker's heartbeat keeps pushing forward. A worker that
// dies (kill -9) stops heartbeating; once the lease expires any worker
// reclaims the job and the handler resumes from the last checkpoint it
// saved. Failures are retried with exponential backoff and jitter up to the
// job's max attempts; a panic in a handler is a failure. Cancel turns a
// queued job into cancelled at once and asks a running one to stop (its
// handler's context is cancelled, locally at once and remotely at the next
// heartbeat). When Work's context ends, workers stop claiming, cancel their
// handlers and hand their leases back (the job is queued again without
// spending an attempt).
//
// Exactly-once effects. Every write a handler makes through its Run
// (progress, checkpoints, completion) is guarded by the lease token, and
// Run.Complete commits the handler's own database effect in the same
// transaction as the job's success. A worker that lost its lease therefore
// cannot commit an effect, even if it finishes its work.
//
// Clocks. Lease expiry compares one worker's clock with the expiry another
// worker wrote, so hosts must keep their clocks in sync (NTP); skew eats
// into the lease (default 30 s, heartbeat every 10 s).
//
// Kinds are registered (Register) before Work starts; a process claims only
// the kinds it registered, so specialised workers can share one queue.
//
// Every state change (queued, started, retrying, succeeded, failed,
// cancel requested, cancelled, released) appends an audit record in the
// same transaction.
package jobs
