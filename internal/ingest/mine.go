package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/extract"
)

// MineConfig is the "mine" part of ProcessConfig: conversation logs among
// the processed documents (content type "chat") become chat records — the
// conversations with positive feedback, PII redacted — in ChatDatasetID, and
// pairwise preferences — logs with two candidate answers and a preferred
// one — in PreferenceDatasetID. Either target may be omitted; both datasets
// are created by the caller with kinds chat and preference.
type MineConfig struct {
	ChatDatasetID       string `json:"chat_dataset_id,omitempty"`
	PreferenceDatasetID string `json:"preference_dataset_id,omitempty"`
	// MinRating is the lowest numeric rating that counts as positive
	// feedback (ratings on a 1–5 scale; 1/0 thumbs count as up/down);
	// default 4.
	MinRating float64 `json:"min_rating,omitempty"`
	// KeepSystem keeps system messages in chat records; default false.
	KeepSystem bool `json:"keep_system,omitempty"`
}

// Validate checks the mining config.
func (c *MineConfig) Validate() error {
	if c == nil {
		return nil
	}
	if c.ChatDatasetID == "" && c.PreferenceDatasetID == "" {
		return fmt.Errorf("%w: mine: chat_dataset_id or preference_dataset_id is required", ErrConfig)
	}
	if c.MinRating < 0 {
		return fmt.Errorf("%w: mine: min_rating must not be negative", ErrConfig)
	}
	return nil
}

// MineReport says what mining found.
type MineReport struct {
	Conversations int             `json:"conversations"`
	Positive      int             `json:"positive"`
	Skipped       map[string]int  `json:"skipped"` // reason → conversations not made into chat records
	Chat          *DerivedVersion `json:"chat,omitempty"`
	Preference    *DerivedVersion `json:"preference,omitempty"`
	Redacted      map[string]int  `json:"redacted"` // PII type → spans redacted in mined records
}

// DerivedVersion names a version written to a target dataset.
type DerivedVersion struct {
	DatasetID   string `json:"dataset_id"`
	Version     string `json:"version"`
	LineageHash string `json:"lineage_hash"`
	Records     int    `json:"records"`
	Created     bool   `json:"created"`
}

// Conversation is one chat log conversation given to Mine.
type Conversation struct {
	ID         string            // conversation id (or row number)
	Source     string            // document fingerprint it came from
	Messages   []extract.Message // the conversation
	Candidates []extract.Message // alternative final answers
	Preferred  int               // index into Candidates, -1 when none
	Metadata   map[string]string // every other field: feedback, ratings, ids
}

var positiveWords = map[string]bool{"thumbs_up": true, "thumbsup": true, "up": true, "positive": true, "good": true,
	"helpful": true, "like": true, "liked": true, "accepted": true, "resolved": true, "yes": true, "true": true, "👍": true, "+1": true}
var negativeWords = map[string]bool{"thumbs_down": true, "thumbsdown": true, "down": true, "negative": true, "bad": true,
	"unhelpful": true, "dislike": true, "disliked": true, "rejected": true, "no": true, "false": true, "👎": true, "-1": true}

// Feedback reads a conversation's feedback from its metadata (fields named
// feedback, rating, thumbs, score, helpful, possibly nested: feedback.rating):
// +1 positive, -1 negative, 0 none.
func Feedback(meta map[string]string, minRating float64) int {
	if minRating == 0 {
		minRating = 4
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	verdict := 0
	for _, k := range keys {
		last := strings.ToLower(path.Ext("." + k))[1:]
		switch last {
		case "feedback", "rating", "thumbs", "score", "helpful", "vote", "label":
		default:
			continue
		}
		v := strings.ToLower(strings.TrimSpace(meta[k]))
		switch {
		case positiveWords[v]:
			return 1
		case negativeWords[v]:
			verdict = -1
		default:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			if last == "thumbs" || last == "helpful" || last == "vote" {
				if f > 0 {
					return 1
				}
				verdict = -1
			} else if f >= minRating {
				return 1
			} else {
				verdict = -1
			}
		}
	}
	return verdict
}

// MineRecords turns conversations into chat records (positive feedback
// only) and preference records (two or more candidates and a preferred one;
// the first other candidate is the rejected answer). redact, when not nil,
// is applied to every message. skipped counts why conversations gave no
// chat record.
func MineRecords(convs []Conversation, cfg MineConfig, redact func(string) string) (chats, prefs []dataset.Record, positive int, skipped map[string]int) {
	skipped = map[string]int{}
	if redact == nil {
		redact = func(s string) string { return s }
	}
	for _, c := range convs {
		meta := map[string]any{"conversation_id": c.ID, "source_fingerprint": c.Source}
		if len(c.Candidates) >= 2 && c.Preferred >= 0 && c.Preferred < len(c.Candidates) {
			rej := 0
			if c.Preferred == 0 {
				rej = 1
			}
			prompt := promptOf(c.Messages, redact)
			chosen, rejected := redact(strings.TrimSpace(c.Candidates[c.Preferred].Content)), redact(strings.TrimSpace(c.Candidates[rej].Content))
			if prompt != "" && chosen != "" && rejected != "" && chosen != rejected {
				pm := cloneAny(meta)
				pm["mined"] = "preference"
				prefs = append(prefs, dataset.Record{ID: mineID("pref", c), Prompt: prompt, Chosen: chosen, Rejected: rejected, Metadata: pm})
			}
		}
		fb := Feedback(c.Metadata, cfg.MinRating)
		if fb <= 0 {
			if fb < 0 {
				skipped["negative feedback"]++
			} else {
				skipped["no feedback"]++
			}
			continue
		}
		positive++
		var msgs []dataset.Message
		for _, m := range c.Messages {
			if m.Role == "system" && !cfg.KeepSystem {
				continue
			}
			text := strings.TrimSpace(m.Content)
			if text == "" {
				continue
			}
			msgs = append(msgs, dataset.Message{Role: m.Role, Content: redact(text)})
		}
		if c.Preferred >= 0 && c.Preferred < len(c.Candidates) {
			msgs = append(msgs, dataset.Message{Role: "assistant", Content: redact(strings.TrimSpace(c.Candidates[c.Preferred].Content))})
		}
		if len(msgs) < 2 || msgs[len(msgs)-1].Role != "assistant" {
			skipped["no assistant answer"]++
			continue
		}
		cm := cloneAny(meta)
		cm["mined"] = "chat"
		chats = append(chats, dataset.Record{ID: mineID("chat", c), Messages: msgs, Metadata: cm})
	}
	return chats, prefs, positive, skipped
}

// promptOf is the preference prompt: the last user message, after the
// earlier turns as "role: content" lines when there are any besides the
// system prompt.
func promptOf(msgs []extract.Message, redact func(string) string) string {
	var turns []extract.Message
	for _, m := range msgs {
		if m.Role != "system" && strings.TrimSpace(m.Content) != "" {
			turns = append(turns, m)
		}
	}
	if len(turns) == 0 {
		return ""
	}
	if len(turns) == 1 {
		return redact(strings.TrimSpace(turns[0].Content))
	}
	var b strings.Builder
	for i, m := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m.Role + ": " + strings.TrimSpace(m.Content))
	}
	return redact(b.String())
}

func mineID(kind string, c Conversation) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + c.Source + "\x00" + c.ID))
	return kind + "_" + hex.EncodeToString(sum[:12])
}

func cloneAny(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// conversations re-reads the chat logs behind the given documents (their
// raw files in the blob store) and returns the conversations those
// documents stand for, in document order.
func (in *Ingester) conversations(ctx context.Context, docs []*dataset.Document) ([]Conversation, error) {
	byRaw := map[string][]extract.Record{}
	var out []Conversation
	for _, d := range docs {
		if d.ContentType != string(extract.FormatChat) {
			continue
		}
		recs, ok := byRaw[d.ContentDigest]
		if !ok {
			raw, err := in.Datasets.ReadBlob(ctx, d.ContentDigest)
			if err != nil {
				return nil, fmt.Errorf("mine: document %s: %w", d.ID, err)
			}
			doc, err := extract.ExtractWith(ctx, path.Base(strings.SplitN(d.SourceKey, "#", 2)[0]), string(extract.FormatChat), bytes.NewReader(raw), extract.Options{Limits: in.Limits})
			if err != nil {
				return nil, fmt.Errorf("mine: document %s: %w", d.ID, err)
			}
			recs = doc.Records
			byRaw[d.ContentDigest] = recs
		}
		want, _ := d.Metadata["record"].(string)
		for i, r := range recs {
			id := r.ID
			if id == "" {
				id = strconv.Itoa(i + 1)
			}
			if id != want {
				continue
			}
			out = append(out, Conversation{ID: id, Source: d.Fingerprint, Messages: r.Messages, Candidates: r.Candidates,
				Preferred: r.Preferred, Metadata: r.Metadata})
			break
		}
	}
	return out, nil
}

// mine runs conversation mining on the documents of a freshly made version.
func (in *Ingester) mine(ctx context.Context, orgID, actorID, jobID string, v *dataset.Version, docs []*dataset.Document, cfg MineConfig, redactCfg *RedactConfig) (*MineReport, error) {
	convs, err := in.conversations(ctx, docs)
	if err != nil {
		return nil, err
	}
	rc := RedactConfig{Enabled: true}
	if redactCfg != nil && redactCfg.Enabled {
		rc = *redactCfg
	}
	red, err := newRedactor(&rc, in.SecretKey)
	if err != nil {
		return nil, err
	}
	rep := &MineReport{Conversations: len(convs), Redacted: map[string]int{}}
	redact := func(s string) string {
		out, spans := red.redact(s)
		for _, sp := range spans {
			rep.Redacted[string(sp.Type)]++
		}
		return out
	}
	chats, prefs, positive, skipped := MineRecords(convs, cfg, redact)
	rep.Positive, rep.Skipped = positive, skipped
	write := func(id string, kind dataset.Kind, recs []dataset.Record) (*DerivedVersion, error) {
		out, created, err := in.derivedVersion(ctx, orgID, actorID, jobID, id, kind, v, "mine", cfg, recs, dataset.Stats{PII: rep.Redacted}, nil)
		if err != nil {
			return nil, err
		}
		return &DerivedVersion{DatasetID: id, Version: out.Version, LineageHash: out.LineageHash, Records: out.Items, Created: created}, nil
	}
	if cfg.ChatDatasetID != "" {
		if rep.Chat, err = write(cfg.ChatDatasetID, dataset.KindChat, chats); err != nil {
			return nil, err
		}
	}
	if cfg.PreferenceDatasetID != "" {
		if rep.Preference, err = write(cfg.PreferenceDatasetID, dataset.KindPreference, prefs); err != nil {
			return nil, err
		}
	}
	return rep, nil
}
