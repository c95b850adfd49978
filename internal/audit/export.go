package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Export writes the records of orgID ("" = every organisation) in chain
// order to w as "jsonl" (one Record per line) or "csv" (a header row, then
// one row per record with the payload as JSON text).
func (l *Log) Export(ctx context.Context, w io.Writer, format, orgID string) error {
	switch format {
	case "jsonl":
		enc := json.NewEncoder(w)
		if err := l.each(ctx, orgID, func(r *Record) error { return enc.Encode(r) }); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"seq", "id", "org_id", "actor_id", "action", "target_type", "target_id", "payload_json", "created_at", "prev_hash", "hash"})
		err := l.each(ctx, orgID, func(r *Record) error {
			return cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.ID, r.OrgID, r.ActorID, r.Action, r.TargetType, r.TargetID, string(r.Payload), r.CreatedAt, r.PrevHash, r.Hash})
		})
		if err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("audit: export: unknown format %q (want jsonl or csv)", format)
	}
}
