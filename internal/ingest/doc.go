// Package ingest brings documents into datasets: uploads (files, .zip and
// .tar.gz archives), registered sources synced as jobs (local folders,
// HTTP/REST APIs, PostgreSQL and MySQL queries, S3-compatible buckets,
// SharePoint drives via the Graph delta API, Google Drive via its changes API), and
// the processing job that turns a dataset's documents into a new immutable
// version (normalisation, quality filters, PII redaction, exact and
// near-duplicate removal, weak labels).
//
// Every file is handled on its own: a corrupt, encrypted, oversized or
// binary file is reported in the job result with its cause and the rest of
// the batch proceeds. Documents are fingerprinted exactly once per dataset by
// the dataset service, so re-running a sync after a crash or concurrently
// adds nothing twice.
package ingest
