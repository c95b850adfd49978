package tokenizer

// align is the original byte range [start, end) one byte of a transformed
// string came from.
type align struct{ start, end int32 }

// span is a piece of text on its way through the pipeline together with its
// alignment to the original input. When al is nil the text is a verbatim copy
// of input[off:off+len(s)], which is the common and cheap case.
type span struct {
	s   string
	off int     // original offset of s[0]; kept even when alignment is not tracked
	al  []align // per byte of s; nil means identity from off
}

// orig returns the original byte range that s[i:j] came from.
func (sp span) orig(i, j int) (int, int) {
	if sp.al == nil {
		return sp.off + i, sp.off + j
	}
	if len(sp.al) == 0 {
		return sp.off, sp.off
	}
	if i >= j {
		if i >= len(sp.al) {
			e := int(sp.al[len(sp.al)-1].end)
			return e, e
		}
		s := int(sp.al[i].start)
		return s, s
	}
	return int(sp.al[i].start), int(sp.al[j-1].end)
}

// sub returns the sub-span s[i:j].
func (sp span) sub(i, j int) span {
	if sp.al == nil {
		return span{s: sp.s[i:j], off: sp.off + i}
	}
	o, _ := sp.orig(i, j)
	return span{s: sp.s[i:j], off: o, al: sp.al[i:j]}
}

// spanBuilder assembles a transformed span. With track off it only builds
// the text, which keeps plain Encode cheap.
type spanBuilder struct {
	b     []byte
	al    []align
	track bool
	off   int
	set   bool
}

func newSpanBuilder(track bool, off, capacity int) *spanBuilder {
	w := &spanBuilder{track: track, off: off, b: make([]byte, 0, capacity)}
	if track {
		w.al = make([]align, 0, capacity)
	}
	return w
}

// add appends str whose bytes all come from the original range [start, end).
func (w *spanBuilder) add(str string, start, end int) {
	if !w.set {
		w.off = start
		w.set = true
	}
	w.b = append(w.b, str...)
	if w.track {
		for range len(str) {
			w.al = append(w.al, align{int32(start), int32(end)})
		}
	}
}

// addBytes is add for a byte slice.
func (w *spanBuilder) addBytes(b []byte, start, end int) {
	if !w.set {
		w.off = start
		w.set = true
	}
	w.b = append(w.b, b...)
	if w.track {
		for range len(b) {
			w.al = append(w.al, align{int32(start), int32(end)})
		}
	}
}

// copyFrom appends sp.s[i:j] keeping its alignment.
func (w *spanBuilder) copyFrom(sp span, i, j int) {
	if i >= j {
		return
	}
	if !w.set {
		w.off, _ = sp.orig(i, j)
		w.set = true
	}
	w.b = append(w.b, sp.s[i:j]...)
	if w.track {
		if sp.al != nil {
			w.al = append(w.al, sp.al[i:j]...)
		} else {
			for k := i; k < j; k++ {
				w.al = append(w.al, align{int32(sp.off + k), int32(sp.off + k + 1)})
			}
		}
	}
}

func (w *spanBuilder) span() span {
	sp := span{s: string(w.b), off: w.off}
	if w.track {
		sp.al = w.al
		if sp.al == nil {
			sp.al = []align{}
		}
	}
	return sp
}
