package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"
)

func TestReadRawResponse(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		status    int
		keep, bad bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, true, false},
		{"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n", 201, true, false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, true, false},
		{"close", "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 429, false, false},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false, false},
		{"body until close", "HTTP/1.1 200 OK\r\n\r\nxyz", 0, false, true},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, false, true},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, false, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.in))
			status, keep, err := readRawResponse(br)
			if (err != nil) != tc.bad || (!tc.bad && (status != tc.status || keep != tc.keep)) {
				t.Fatalf("= %d %v %v", status, keep, err)
			}
			if !tc.bad {
				if rest, _ := io.ReadAll(br); len(rest) != 0 {
					t.Fatalf("left %q unread", rest)
				}
			}
		})
	}
}

// TestReadRawResponseNetHTTP reads what net/http's server writes, framed
// both ways, twice on one stream (keep-alive).
func TestReadRawResponseNetHTTP(t *testing.T) {
	for _, size := range []int{0, 10, 5000, 70000} {
		rec := httptest.NewRecorder()
		rec.Body.WriteString(strings.Repeat("x", size))
		resp := rec.Result()
		var sb strings.Builder
		for range 2 {
			resp.Body = io.NopCloser(strings.NewReader(strings.Repeat("x", size)))
			if size > 1000 {
				resp.ContentLength, resp.TransferEncoding = -1, []string{"chunked"}
			} else {
				resp.ContentLength = int64(size)
			}
			b, err := httputil.DumpResponse(resp, true)
			if err != nil {
				t.Fatal(err)
			}
			sb.Write(b)
		}
		br := bufio.NewReader(strings.NewReader(sb.String()))
		for i := range 2 {
			if st, keep, err := readRawResponse(br); err != nil || st != http.StatusOK || !keep {
				t.Fatalf("size %d response %d: %d %v %v", size, i, st, keep, err)
			}
		}
	}
}

func FuzzReadRawResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	f.Add("HTTP/1.1 204 No Content\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 64)
		readRawResponse(br) // must not panic or loop
	})
}

// TestBenchAPISmall runs the bench briefly with both load generators.
func TestBenchAPISmall(t *testing.T) {
	for _, client := range []string{"raw", "http"} {
		code, out, errOut := run(t, nil, "bench", "api", "--duration", "300ms", "--conns", "4", "--seed-projects", "3", "--client", client, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", client, code, errOut)
		}
		var res []benchAPIResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(res) != 2 {
			t.Fatalf("%s: %+v", client, res)
		}
		for _, r := range res {
			if r.Requests == 0 || r.Errors != 0 || r.Client != client {
				t.Fatalf("%s: %+v", client, r)
			}
		}
	}
}
