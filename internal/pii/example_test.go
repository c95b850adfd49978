package pii_test

import (
	"fmt"

	"github.com/whet-dev/whet/internal/pii"
)

func ExampleRedact() {
	text := "Contact Dr. Jane Doe at jane.doe@example.com or +1 415 555 0132."
	out, rep := pii.Redact(text, pii.Config{Enabled: true, Mode: pii.ModeMask})
	fmt.Println(out)
	for _, r := range rep.Spans {
		fmt.Println(r.Type, r.Start, r.End, r.Replacement)
	}
	// Output:
	// Contact Dr. [PERSON] at [EMAIL] or [PHONE].
	// person 12 20 [PERSON]
	// email 24 44 [EMAIL]
	// phone 48 63 [PHONE]
}
