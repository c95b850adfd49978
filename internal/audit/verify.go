package audit

import (
	"context"
	"errors"
	"fmt"
)

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	OK      bool   // the whole chain checks out
	Records int64  // records examined
	BadSeq  int64  // position of the first bad record (0 when OK)
	BadID   string // id of the first bad record ("" when the damage is a missing tail)
	Reason  string // what is wrong with it
}

// String describes r in one line.
func (r VerifyResult) String() string {
	if r.OK {
		return fmt.Sprintf("audit chain OK: %d records", r.Records)
	}
	return fmt.Sprintf("audit chain BROKEN at record %d (%s): %s", r.BadSeq, r.BadID, r.Reason)
}

var errStop = errors.New("stop")

// Verify walks the whole chain in order and reports the first record that
// was edited (hash mismatch), deleted (gap in sequence or missing tail) or
// reordered (prev_hash not the hash of the record before it).
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	res := VerifyResult{}
	prev := GenesisHash
	var want int64 = 1
	fail := func(r *Record, seq int64, reason string) error {
		res.BadSeq, res.Reason = seq, reason
		if r != nil {
			res.BadID = r.ID
		}
		return errStop
	}
	err := l.each(ctx, "", func(r *Record) error {
		res.Records++
		switch {
		case r.Seq != want:
			return fail(r, r.Seq, fmt.Sprintf("expected record %d here: a record before it was deleted or the order changed", want))
		case r.PrevHash != prev:
			return fail(r, r.Seq, "prev_hash does not match the hash of the record before it (deleted, inserted or reordered)")
		}
		h, err := ComputeHash(r.PrevHash, r)
		if err != nil {
			return fail(r, r.Seq, "record does not canonicalise: "+err.Error())
		}
		if h != r.Hash {
			return fail(r, r.Seq, "hash does not match the record's contents (edited)")
		}
		prev, want = r.Hash, want+1
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return res, fmt.Errorf("audit: verify: %w", err)
	}
	if res.Reason != "" {
		return res, nil
	}
	var headSeq int64
	var headHash string
	if err := l.db.SQL.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return res, fmt.Errorf("audit: verify: read head: %w", err)
	}
	if headSeq != want-1 || headHash != prev {
		res.BadSeq = want
		res.Reason = fmt.Sprintf("chain ends at record %d but its head says %d: records at the end were deleted or edited", want-1, headSeq)
		return res, nil
	}
	res.OK = true
	return res, nil
}
