// Package eval owns whet's evaluation metrics, suites and gates. This file
// set holds the retrieval metrics (MRR@k, nDCG@k, recall@k, precision@k) and
// readers for BEIR-style test collections (queries.jsonl and TREC qrels).
package eval
