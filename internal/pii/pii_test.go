package pii

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDetectCases(t *testing.T) {
	d := newDetector(t)
	tests := []struct {
		name string
		text string
		want []string // "type:text" in order
	}{
		{"email", "write to a.b-c@mail.example.com.", []string{"email:a.b-c@mail.example.com"}},
		{"asset name is not email", "see logo@2x.png", nil},
		{"package version is not email", "lodash@4.17.21", nil},
		{"uk phone", "ring 020 7946 0958 now", []string{"phone:020 7946 0958"}},
		{"e164", "+14155552671", []string{"phone:+14155552671"}},
		{"nanp with country code", "1-800-555-0199", []string{"phone:1-800-555-0199"}},
		{"date is not phone", "on 2024-03-15 and 15.03.2024", nil},
		{"order number is not phone", "Order number 212-555-0100", nil},
		{"bare digits need a cue", "ID 4155552671", nil},
		{"bare digits with cue", "phone: 4155552671", []string{"phone:4155552671"}},
		{"visa luhn", "card 4111 1111 1111 1111", []string{"credit_card:4111 1111 1111 1111"}},
		{"luhn failure", "card 4111 1111 1111 1112", nil},
		{"unknown issuer", "number 9111 1111 1111 1116", nil},
		{"mixed separators", "4111-1111 1111-1111", nil},
		{"iban", "DE89 3704 0044 0532 0130 00", []string{"iban:DE89 3704 0044 0532 0130 00"}},
		{"iban bad checksum", "DE88 3704 0044 0532 0130 00", nil},
		{"iban wrong length", "DE89 3704 0044 0532 0130", nil},
		{"ssn", "SSN 123-45-6789", []string{"ssn:123-45-6789"}},
		{"ssn forbidden areas", "000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000", nil},
		{"ssn bare needs cue", "ssn: 123456789 — internal ticket reference 123456789", []string{"ssn:123456789"}},
		{"ipv4", "host 192.168.1.20:22", []string{"ip_address:192.168.1.20"}},
		{"ipv4 out of range", "999.1.1.1", nil},
		{"version string", "version 1.2.3.4", nil},
		{"ipv6", "addr 2001:db8::1 up", []string{"ip_address:2001:db8::1"}},
		{"time is not ipv6", "at 10:30:00", nil},
		{"dob needs context", "on 1984-07-12 we met; DOB: 1984-07-12", []string{"date_of_birth:1984-07-12"}},
		{"dob spelled", "born on March 3, 1985.", []string{"date_of_birth:March 3, 1985"}},
		{"impossible dob", "DOB 1984-13-40", nil},
		{"us address", "at 221 Elm Street, Springfield, IL 62701 today", []string{"address:221 Elm Street, Springfield, IL 62701"}},
		{"de address", "Goethestraße 5, 60313 Frankfurt", []string{"address:Goethestraße 5, 60313 Frankfurt"}},
		{"aws key", "AKIAABCDEFGHIJKLMNOP", []string{"secret:AKIAABCDEFGHIJKLMNOP"}},
		{"github token", "ghp_" + strings.Repeat("a1B2", 9), []string{"secret:ghp_" + strings.Repeat("a1B2", 9)}},
		{"password assignment value only", `password = "hunter22"`, []string{"secret:hunter22"}},
		{"password placeholder", "password=${PASS} password: ****", nil},
		{"jwt needs json header", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2lnbmF0dXJl eyJub3RhIjoiand0In0.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
			[]string{"secret:eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}},
		{"title", "Dr. Jane Doe", []string{"person:Jane Doe"}},
		{"name pair", "then Maria Garcia said", []string{"person:Maria Garcia"}},
		{"not a name", "Johnson Controls and Jordan Brand", nil},
		{"secret beats email", "https://ghp_" + strings.Repeat("x", 36) + "@github.com", []string{"secret:ghp_" + strings.Repeat("x", 36)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range d.Detect(tt.text) {
				got = append(got, string(s.Type)+":"+s.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("Detect(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestDetectTypesFilter(t *testing.T) {
	d := newDetector(t)
	text := "mail a@b.example or call +1 212 555 0100"
	spans := d.Detect(text, TypePhone)
	if len(spans) != 1 || spans[0].Type != TypePhone {
		t.Fatalf("Detect(phone only) = %+v", spans)
	}
}

func TestValidators(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{{"4111111111111111", true}, {"4111111111111112", false}, {"79927398713", true}, {"0", true}} {
		if got := luhn(tt.in); got != tt.want {
			t.Errorf("luhn(%s) = %v", tt.in, got)
		}
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{{"GB82WEST12345698765432", true}, {"GB82WEST12345698765433", false}, {"DE89370400440532013000", true}, {"NO9386011117947", true}} {
		if got := ibanChecksum(tt.in); got != tt.want {
			t.Errorf("ibanChecksum(%s) = %v", tt.in, got)
		}
	}
	for _, tt := range []struct {
		a, g, s string
		want    bool
	}{{"123", "45", "6789", true}, {"000", "45", "6789", false}, {"666", "45", "6789", false}, {"901", "45", "6789", false}, {"123", "00", "6789", false}, {"123", "45", "0000", false}} {
		if got := validSSN(tt.a, tt.g, tt.s); got != tt.want {
			t.Errorf("validSSN(%s-%s-%s) = %v", tt.a, tt.g, tt.s, got)
		}
	}
}

func TestRedactModes(t *testing.T) {
	d := newDetector(t)
	text := "Mail ann.lee@example.com or call +1 (415) 555-0132; again: +14155550132."
	key := []byte("test-key")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"mask", Config{Mode: ModeMask}, "Mail [EMAIL] or call [PHONE]; again: [PHONE]."},
		{"default mode masks", Config{}, "Mail [EMAIL] or call [PHONE]; again: [PHONE]."},
		{"remove", Config{Mode: ModeRemove}, "Mail  or call ; again: ."},
		{"types subset", Config{Types: []Type{TypeEmail}}, "Mail [EMAIL] or call +1 (415) 555-0132; again: +14155550132."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep := d.Redact(text, tt.cfg)
			if got != tt.want {
				t.Fatalf("Redact = %q, want %q", got, tt.want)
			}
			checkReport(t, text, got, rep)
		})
	}
	t.Run("pseudonym", func(t *testing.T) {
		got, rep := d.Redact(text, Config{Mode: ModePseudonym, Key: key})
		checkReport(t, text, got, rep)
		if len(rep.Spans) != 3 || rep.Counts[TypePhone] != 2 {
			t.Fatalf("report %+v", rep)
		}
		p1, p2 := rep.Spans[1].Replacement, rep.Spans[2].Replacement
		if p1 != p2 || !strings.HasPrefix(p1, "PHONE_") || len(p1) != len("PHONE_")+6 {
			t.Fatalf("same number, different formats: %q vs %q", p1, p2)
		}
		again, _ := d.Redact(text, Config{Mode: ModePseudonym, Key: key})
		if again != got {
			t.Fatal("pseudonyms not stable across calls")
		}
		other, _ := d.Redact(text, Config{Mode: ModePseudonym, Key: []byte("other")})
		if other == got {
			t.Fatal("pseudonyms do not depend on the key")
		}
	})
	t.Run("pseudonym without key masks", func(t *testing.T) {
		got, rep := d.Redact(text, Config{Mode: ModePseudonym})
		if rep.Mode != ModeMask || !strings.Contains(got, "[EMAIL]") {
			t.Fatalf("got %q, mode %s", got, rep.Mode)
		}
	})
}

// checkReport verifies offsets and that the report never carries the
// original values.
func checkReport(t *testing.T, in, out string, rep Report) {
	t.Helper()
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Spans {
		if out[r.OutStart:r.OutEnd] != r.Replacement {
			t.Fatalf("replacement offsets wrong: %+v", r)
		}
		if orig := in[r.Start:r.End]; strings.Contains(string(js), orig) {
			t.Fatalf("report leaks %q", orig)
		}
	}
}

func TestPackageRedact(t *testing.T) {
	got, rep := Redact("SSN 123-45-6789", Config{Enabled: true, Mode: ModeMask})
	if got != "SSN [SSN]" || rep.Counts[TypeSSN] != 1 {
		t.Fatalf("Redact = %q %+v", got, rep)
	}
}

func TestConfig(t *testing.T) {
	var c Config
	if err := json.Unmarshal([]byte(`{"enabled":true,"types":["email","phone"],"mode":"mask"}`), &c); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || len(c.Types) != 2 || c.Mode != ModeMask || c.Validate() != nil {
		t.Fatalf("decoded %+v", c)
	}
	tests := []struct {
		cfg  Config
		want error
	}{
		{Config{Types: []Type{"fax"}}, ErrUnknownType},
		{Config{Mode: "blur"}, ErrUnknownMode},
		{Config{Mode: ModePseudonym}, ErrNoKey},
		{Config{Mode: ModePseudonym, Key: []byte("k")}, nil},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
	js, _ := json.Marshal(Config{Mode: ModePseudonym, Key: []byte("secret-key")})
	if strings.Contains(string(js), "secret-key") || strings.Contains(string(js), "c2VjcmV0") {
		t.Fatalf("key serialised: %s", js)
	}
}

func TestSpanLogValueOmitsText(t *testing.T) {
	s := Span{Type: TypeEmail, Start: 1, End: 5, Text: "a@b.c", Detector: "email"}
	if strings.Contains(s.LogValue().String(), "a@b.c") {
		t.Fatal("LogValue contains the sensitive text")
	}
}

func FuzzDetect(f *testing.F) {
	for _, doc := range loadGold(f, "testdata/labelled.jsonl")[:40] {
		f.Add(doc.Text)
	}
	f.Add("\xff\xfe(((+1 ---- 555")
	f.Add("DOB: the 31st of")
	d := newDetector(f)
	f.Fuzz(func(t *testing.T, text string) {
		spans := d.Detect(text)
		prevEnd := 0
		for _, s := range spans {
			if s.Start < prevEnd || s.End <= s.Start || s.End > len(text) {
				t.Fatalf("bad span %+v (prev end %d, len %d)", s, prevEnd, len(text))
			}
			if s.Text != text[s.Start:s.End] {
				t.Fatalf("span text mismatch %+v", s)
			}
			prevEnd = s.End
		}
		out, rep := d.Redact(text, Config{Mode: ModeMask})
		if len(rep.Spans) != len(spans) {
			t.Fatalf("redacted %d spans, detected %d", len(rep.Spans), len(spans))
		}
		for _, r := range rep.Spans {
			if out[r.OutStart:r.OutEnd] != r.Replacement {
				t.Fatalf("bad replacement offsets %+v", r)
			}
		}
	})
}

// BenchmarkRedact measures mask-mode redaction on two kinds of text: the
// gold set concatenated ("dense": a PII item every ~70 bytes) and business
// prose with a PII item every ~1 KB ("prose", closer to real documents).
// cpu-MB/s is bytes per CPU-second of the whole process.
func BenchmarkRedact(b *testing.B) {
	d := newDetector(b)
	var dense strings.Builder
	for _, doc := range loadGold(b, "testdata/labelled.jsonl") {
		dense.WriteString(doc.Text)
		dense.WriteString("\n\n")
	}
	para := "The quarterly review covers support volumes, the onboarding flow and the plan for the spring release. " +
		"Teams reported steady progress on the migration to the new billing system, with two open risks around data " +
		"retention and the rollout schedule for customers in the EU. The steering group agreed to revisit the budget " +
		"in March, after the audit results are in, and asked every team lead to send an updated estimate by the end of " +
		"the month. Training sessions for the new ticket workflow start next week; please register through the portal. "
	var prose strings.Builder
	for i := 0; prose.Len() < 64<<10; i++ {
		prose.WriteString(para)
		fmt.Fprintf(&prose, "Questions go to team%d@example.com or +44 20 7946 %04d.\n\n", i, i%10000)
	}
	for _, c := range []struct{ name, text string }{{"dense", dense.String()}, {"prose", prose.String()}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			c0 := cpuTime()
			for b.Loop() {
				d.Redact(c.text, Config{Mode: ModeMask})
			}
			if cpu := (cpuTime() - c0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(len(c.text))*float64(b.N)/cpu/1e6, "cpu-MB/s")
			}
		})
	}
}
