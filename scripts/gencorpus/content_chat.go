package main

import (
	"bytes"
	"encoding/json"
)

// Chat logs in OpenAI messages format, with thumbs up/down feedback, and
// preference pairs in OpenAI's preference fine-tuning format.

type msg struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type feedback struct {
	Rating  string `json:"rating"` // thumbs_up or thumbs_down
	Comment string `json:"comment,omitempty"`
}

type chatLine struct {
	ID         string    `json:"id"`
	CreatedAt  string    `json:"created_at"`
	Channel    string    `json:"channel"`
	UserID     string    `json:"user_id"`
	Messages   []msg     `json:"messages"`
	Candidates []msg     `json:"candidates,omitempty"`
	Preferred  *int      `json:"preferred,omitempty"`
	Feedback   *feedback `json:"feedback,omitempty"`
}

type prefLine struct {
	ID    string `json:"id"`
	Input struct {
		Messages []msg `json:"messages"`
	} `json:"input"`
	Preferred    []msg  `json:"preferred_output"`
	NonPreferred []msg  `json:"non_preferred_output"`
	Annotator    string `json:"annotator"`
	Reason       string `json:"reason"`
}

const supportSystem = "You are the Northwind Lattice support assistant. Answer from the help centre and policies; say when you do not know."
const helpdeskSystem = "You are the Northwind Lattice internal IT helpdesk assistant for employees."

func up(c string) *feedback   { return &feedback{Rating: "thumbs_up", Comment: c} }
func down(c string) *feedback { return &feedback{Rating: "thumbs_down", Comment: c} }
func idx(i int) *int          { return &i }

var supportChats = []chatLine{
	{ID: "chat-2026-09-0001", CreatedAt: "2026-09-03T08:12:40Z", Channel: "help-centre", UserID: "u_brightwell_017",
		Messages: []msg{{"system", supportSystem}, {"user", "How long is an API access token valid?"}, {"assistant", "Access tokens from the OAuth 2.0 client credentials grant are valid for 60 minutes. Reuse the token until it expires instead of requesting a new one per call."}},
		Feedback: up("")},
	{ID: "chat-2026-09-0002", CreatedAt: "2026-09-04T14:03:11Z", Channel: "help-centre", UserID: "u_kestrel_004",
		Messages: []msg{{"system", supportSystem}, {"user", "Our DHL connection shows CARRIER_AUTH_401. What do I do?"}, {"assistant", "CARRIER_AUTH_401 means DHL rejected the stored credentials. Ask your DHL account owner for new API credentials (they expire every 12 months), enter them under Lattice Connect > Carriers, run Test connection, then click Backfill to recover up to 7 days of missed tracking events."}},
		Feedback: up("fixed it, thanks")},
	{ID: "chat-2026-09-0003", CreatedAt: "2026-09-07T10:45:58Z", Channel: "help-centre", UserID: "u_caledonian_002",
		Messages: []msg{{"system", supportSystem}, {"user", "How many times do you retry a failed webhook?"}, {"assistant", "We retry failed webhooks 3 times over one hour."}},
		Feedback: down("wrong, the docs say 12 attempts over 24 hours")},
	{ID: "chat-2026-09-0004", CreatedAt: "2026-09-09T16:20:27Z", Channel: "help-centre", UserID: "u_meridian_011",
		Messages: []msg{{"system", supportSystem}, {"user", "What uptime do you commit to on the Enterprise plan, and what credit do we get if you miss it?"}, {"assistant", "The Enterprise plan commits to 99.95% monthly uptime per module. If uptime falls below that but stays at or above 99.0% you get a 10% service credit on that module's monthly fee; below 99.0% it is 25%, and below 95.0% it is 50%. Claims must be made within 60 days of the end of the month."}},
		Feedback: up("")},
	{ID: "chat-2026-09-0005", CreatedAt: "2026-09-12T07:58:03Z", Channel: "help-centre", UserID: "u_northpoint_008",
		Messages: []msg{{"system", supportSystem}, {"user", "Hi, I'm Maya Okonkwo from Northpoint, my number is +44 113 555 0129. Can the driver app work without signal?"}, {"assistant", "Yes. The Lattice Driver app caches the day's routes and stores proof of delivery offline for up to 72 hours, then syncs when the phone is back online."}},
		Feedback: up("")},
	{ID: "chat-2026-09-0006", CreatedAt: "2026-09-15T11:31:49Z", Channel: "help-centre", UserID: "u_harbourline_001",
		Messages: []msg{{"system", supportSystem}, {"user", "How long do you keep driver GPS data?"}},
		Candidates: []msg{
			{"assistant", "Driver GPS telemetry is kept for 13 months from collection, then deleted or anonymised within 30 days (Data Retention Policy v2.1)."},
			{"assistant", "We keep GPS data for 24 months."},
		},
		Preferred: idx(0), Feedback: up("first answer is current policy")},
	{ID: "chat-2026-09-0007", CreatedAt: "2026-09-18T09:09:15Z", Channel: "help-centre", UserID: "u_brightwell_017",
		Messages: []msg{{"system", supportSystem}, {"user", "Can I pay an invoice of £12,000 by card?"}, {"assistant", "No. Card payments above £10,000 are not accepted; please pay by bank transfer or direct debit."}},
		Feedback: up("")},
	{ID: "chat-2026-09-0008", CreatedAt: "2026-09-22T13:44:36Z", Channel: "help-centre", UserID: "u_meridian_011",
		Messages: []msg{{"system", supportSystem}, {"user", "What is the maximum number of stops in one plan?"}},
		Candidates: []msg{
			{"assistant", "There is no limit on stops."},
			{"assistant", "A single plan can hold up to 2,000 stops and 150 vehicles; larger fleets are split into regions planned in parallel."},
		},
		Preferred: idx(1), Feedback: up("")},
	{ID: "chat-2026-09-0009", CreatedAt: "2026-09-26T18:02:10Z", Channel: "help-centre", UserID: "u_kestrel_004",
		Messages: []msg{{"system", supportSystem}, {"user", "Which IP addresses do your webhooks come from?"}, {"assistant", "I don't know the current list of webhook source addresses. Please open a ticket so that support can send you the published egress ranges."}},
		Feedback: up("honest answer")},
}

var helpdeskChats = []chatLine{
	{ID: "hd-2026-10-0101", CreatedAt: "2026-10-01T08:15:00Z", Channel: "slack-it-help", UserID: "emp_0412",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "I lost my laptop on the train this morning. What do I do?"}, {"assistant", "Report it to the IT service desk right away; the Information Security Policy requires lost or stolen devices to be reported within 1 hour of noticing. IT will lock and wipe the laptop remotely. Also report it to the train operator's lost property."}},
		Feedback: up("")},
	{ID: "hd-2026-10-0102", CreatedAt: "2026-10-01T09:40:21Z", Channel: "slack-it-help", UserID: "emp_0198",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "How long does my password need to be?"}, {"assistant", "At least 8 characters."}},
		Feedback: down("policy says 14 characters from the password manager")},
	{ID: "hd-2026-10-0103", CreatedAt: "2026-10-02T10:05:33Z", Channel: "slack-it-help", UserID: "emp_0233",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "Can I work from Portugal for three weeks in November?"}, {"assistant", "You can work from another country for up to 20 working days per calendar year with your manager's approval. Ask the People team to check it at least 10 working days before you travel. Three weeks is 15 working days, so it fits if you have not used days abroad yet this year."}},
		Feedback: up("")},
	{ID: "hd-2026-10-0104", CreatedAt: "2026-10-02T15:27:48Z", Channel: "slack-it-help", UserID: "emp_0077",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "My colleague Callum Fraser asked me to share his 1Password vault login so I can cover for him. OK?"}, {"assistant", "No. Shared accounts are not allowed. Ask Callum to share the specific items you need through a shared vault in 1Password, or ask the system owner to grant you access in your own name."}},
		Feedback: up("")},
	{ID: "hd-2026-10-0105", CreatedAt: "2026-10-03T07:51:12Z", Channel: "slack-it-help", UserID: "emp_0301",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "What is the home office stipend?"}},
		Candidates: []msg{
			{"assistant", "The home office setup stipend is £400, paid once; claim it in Ledgerly under the category Home office. There is also a £30 monthly internet allowance through payroll."},
			{"assistant", "The home office stipend is £300."},
		},
		Preferred: idx(0), Feedback: up("")},
	{ID: "hd-2026-10-0106", CreatedAt: "2026-10-03T12:36:59Z", Channel: "slack-it-help", UserID: "emp_0412",
		Messages: []msg{{"system", helpdeskSystem}, {"user", "Which VPN should I use at the airport?"}, {"assistant", "Use Lattice Secure Access, the company VPN, whenever you are on public or shared Wi-Fi such as at an airport."}},
		Feedback: up("")},
}

var preferencePairs = []prefLine{
	pref("pref-0001", "How quickly must a critical vulnerability be fixed?",
		"Critical vulnerabilities (CVSS 9.0 to 10.0) must be remediated within 72 hours.",
		"As soon as possible, ideally within a month.", "Hannah Lindqvist", "chosen answer cites the policy deadline"),
	pref("pref-0002", "Who approves an expense claim of £4,000?",
		"A claim between £2,500.01 and £10,000 is approved by your department director.",
		"Your line manager approves all claims.", "Samuel Adeyemi", "rejected answer ignores the approval limits"),
	pref("pref-0003", "When is the code freeze for the weekly release?",
		"The release branch is cut every Monday at 17:00 UTC; that is the code freeze. The release goes to production on Tuesday.",
		"There is no code freeze; we deploy continuously.", "Daniel Kowalczyk", "chosen is correct"),
	pref("pref-0004", "What is the hotel cap in London?",
		"£180 per night including taxes, excluding breakfast.",
		"£250 per night.", "Samuel Adeyemi", "chosen matches the travel policy"),
	pref("pref-0005", "How many days of annual leave do full-time employees get?",
		"28 days of paid annual leave per holiday year plus public holidays; up to 5 unused days can be carried over until 31 March.",
		"25 days including public holidays.", "Priya Raman", "chosen matches the leave policy"),
}

func pref(id, q, good, bad, annotator, reason string) prefLine {
	var p prefLine
	p.ID = id
	p.Input.Messages = []msg{{"system", supportSystem}, {"user", q}}
	p.Preferred = []msg{{"assistant", good}}
	p.NonPreferred = []msg{{"assistant", bad}}
	p.Annotator, p.Reason = annotator, reason
	return p
}

func jsonl[T any](lines []T) string {
	var b bytes.Buffer
	for _, l := range lines {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(l); err != nil {
			panic(err) // static data: a failure is a programming error
		}
	}
	return b.String()
}
