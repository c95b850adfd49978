package main

// The retrieval test collection (BEIR format) and the extractive QA pairs.
// Relevance: 2 = the document answers the query, 1 = related.

type query struct {
	id   string
	text string
	rels map[string]int
}

type qa struct {
	id       string
	question string
	answer   string // exact span of the document text
	path     string
}

const (
	sec       = "policies/security.md"
	aup       = "policies/acceptable-use.md"
	travel    = "policies/travel.md"
	expense   = "policies/expense.md"
	retention = "policies/data-retention.md"
	retOld    = "policies/archive/data-retention-2024.md"
	vendor    = "policies/vendor-risk.html"
	incident  = "policies/incident-response.pdf"
	leave     = "policies/leave.docx"
	remote    = "policies/remote-work.docx"
	remoteOld = "policies/archive/remote-work-2025.docx"
	onboard   = "procedures/onboard-customer.pdf"
	deploy    = "procedures/deploy-release.md"
	rotate    = "procedures/rotate-credentials.docx"
	refund    = "procedures/handle-refund.html"
	offboard  = "procedures/customer-offboarding.md"
	access    = "security/access-review.docx"
	newHire   = "hr/new-hire-checklist.docx"
	route     = "product/lattice-route-overview.md"
	apiAuth   = "product/api-authentication.md"
	webhooks  = "product/webhooks.md"
	yard      = "product/yard-management.md"
	dispatch  = "product/dispatch-console.html"
	integr    = "product/integrations.html"
	whitepap  = "product/security-whitepaper.pdf"
	sla       = "product/sla.docx"
	faqMD     = "faq/faq.md"
	faqHTML   = "faq/faq.html"
	rn42      = "release-notes/v4.2.md"
	rn43      = "release-notes/v4.3.md"
	about     = "company/about.html"
	glossary  = "company/glossary.md"
	kbCarrier = "support/kb-carrier-sync-errors.html"
	kbSSO     = "support/kb-sso-setup.html"
	kbInvoice = "support/kb-invoice-disputes.html"
	q3        = "reports/q3-2026-ops-review.pdf"
	msa       = "contracts/master-services-agreement.pdf"
	handbook  = "handbook/employee-handbook.pdf"
	t58213    = "support/tickets/T-58213.txt"
	t58240    = "support/tickets/T-58240.txt"
	t60117    = "support/tickets/T-60117.txt"
	vendorReg = "registers/vendor-register.csv"
	tickets   = "support/ticket-export.csv"
	chatSup   = "chat/support-chat-2026-09.jsonl"
	chatHD    = "chat/it-helpdesk-2026-10.jsonl"
	prefs     = "chat/answer-preferences.jsonl"
)

var queries = []query{
	{"q1", "How long do we have to fix a critical vulnerability?", map[string]int{sec: 2, prefs: 1, whitepap: 1}},
	{"q2", "minimum password length", map[string]int{sec: 2, chatHD: 1}},
	{"q3", "hotel nightly limit in London", map[string]int{travel: 2, prefs: 1}},
	{"q4", "Am I allowed to fly business class to see a customer?", map[string]int{travel: 2}},
	{"q5", "reimbursement rate for driving my own car on company business", map[string]int{travel: 2}},
	{"q6", "daily meal allowance when travelling in the United States", map[string]int{travel: 2}},
	{"q7", "who signs off a claim of four thousand pounds", map[string]int{expense: 2, prefs: 1}},
	{"q8", "deadline to submit expense claims", map[string]int{expense: 2}},
	{"q9", "Will the company pay for drinks?", map[string]int{expense: 2}},
	{"q10", "How long is driver location history stored?", map[string]int{retention: 2, retOld: 1, chatSup: 1}},
	{"q11", "retention period for support chat transcripts", map[string]int{retention: 2, retOld: 1}},
	{"q12", "how quickly must we handle a request to erase someone's personal data", map[string]int{retention: 2, retOld: 1}},
	{"q13", "what audit evidence do critical suppliers have to provide", map[string]int{vendor: 2, vendorReg: 1}},
	{"q14", "vendor risk score that needs CISO sign-off", map[string]int{vendor: 2}},
	{"q15", "Which suppliers can access restricted data?", map[string]int{vendorReg: 2, vendor: 1}},
	{"q16", "When is the next review of the map tiles provider due?", map[string]int{vendorReg: 2}},
	{"q17", "how fast must on-call acknowledge a SEV1 page", map[string]int{incident: 2}},
	{"q18", "who has to be told within 72 hours after a personal data breach", map[string]int{incident: 2}},
	{"q19", "what roles are assigned when the platform goes down", map[string]int{incident: 2}},
	{"q20", "when is a blameless postmortem required and how soon is it reviewed", map[string]int{incident: 2, q3: 1}},
	{"q21", "how many days of holiday do I get per year", map[string]int{leave: 2, prefs: 1}},
	{"q22", "Can unused vacation days roll over into next year?", map[string]int{leave: 2, prefs: 1}},
	{"q23", "paid time off for the main caregiver after a baby is born", map[string]int{leave: 2}},
	{"q24", "sabbatical eligibility", map[string]int{leave: 2}},
	{"q25", "how much money do I get to set up a desk at home", map[string]int{remote: 2, remoteOld: 1, chatHD: 1}},
	{"q26", "working from another country for a few weeks", map[string]int{remote: 2, remoteOld: 1, chatHD: 1}},
	{"q27", "core collaboration hours for teams in Europe", map[string]int{remote: 2, remoteOld: 1}},
	{"q28", "steps to bring a newly signed client live on the platform", map[string]int{onboard: 2}},
	{"q29", "how long does hypercare last after go-live", map[string]int{onboard: 2}},
	{"q30", "Which day of the week do releases reach production?", map[string]int{deploy: 2, prefs: 1}},
	{"q31", "canary thresholds before promoting a release", map[string]int{deploy: 2}},
	{"q32", "how do I revert a bad deployment", map[string]int{deploy: 2}},
	{"q33", "How often must database passwords be changed?", map[string]int{rotate: 2}},
	{"q34", "someone pasted an AWS key into a ticket, what do we do", map[string]int{rotate: 2, t60117: 1, incident: 1}},
	{"q35", "who approves a service credit of £3,000", map[string]int{refund: 2}},
	{"q36", "deadline for a customer to claim an SLA credit", map[string]int{refund: 2, sla: 2}},
	{"q37", "what happens to a customer's data after the contract ends", map[string]int{offboard: 2, msa: 1, retention: 1, retOld: 1}},
	{"q38", "quarterly access review: which systems and who owns them", map[string]int{access: 2, sec: 1}},
	{"q39", "what does a new starter do in their first week", map[string]int{newHire: 2}},
	{"q40", "maximum number of stops in one route plan", map[string]int{route: 2, chatSup: 1}},
	{"q41", "how accurate are the arrival time predictions", map[string]int{route: 2}},
	{"q42", "OAuth access token lifetime", map[string]int{apiAuth: 2, chatSup: 1}},
	{"q43", "what happens when I send too many API requests", map[string]int{apiAuth: 2, faqMD: 1, faqHTML: 1}},
	{"q44", "how do I verify that a webhook really came from Lattice", map[string]int{webhooks: 2, rn43: 1}},
	{"q45", "webhook retry policy after failures", map[string]int{webhooks: 2, chatSup: 1, rn42: 1}},
	{"q46", "booking a loading dock appointment at a warehouse", map[string]int{yard: 2}},
	{"q47", "when does the detention clock start for a waiting truck", map[string]int{yard: 2, glossary: 1}},
	{"q48", "keyboard shortcut to publish the plan to drivers", map[string]int{dispatch: 2}},
	{"q49", "which vehicle tracking device vendors are supported", map[string]int{integr: 2, onboard: 1}},
	{"q50", "supported EDI transactions", map[string]int{integr: 2, glossary: 1}},
	{"q51", "in which region is customer data hosted", map[string]int{whitepap: 2, msa: 1, onboard: 1}},
	{"q52", "recovery time objective and recovery point objective", map[string]int{whitepap: 2}},
	{"q53", "uptime guarantee for the enterprise plan", map[string]int{sla: 2, chatSup: 1}},
	{"q54", "how fast does support respond when production is down", map[string]int{sla: 2}},
	{"q55", "does the driver app keep working without mobile signal", map[string]int{faqMD: 2, faqHTML: 2, chatSup: 1}},
	{"q56", "how to contest a bill", map[string]int{kbInvoice: 2, faqMD: 1, faqHTML: 1}},
	{"q57", "What is new in Lattice 4.3?", map[string]int{rn43: 2}},
	{"q58", "When will the old API version be switched off?", map[string]int{rn42: 2}},
	{"q59", "route planning for battery electric vans", map[string]int{rn43: 2, q3: 1}},
	{"q60", "who founded the company and when", map[string]int{about: 2}},
	{"q61", "address of the Rotterdam office", map[string]int{about: 2}},
	{"q62", "definition of dwell time", map[string]int{glossary: 2, rn42: 1}},
	{"q63", "carrier credentials expired and tracking events are missing", map[string]int{kbCarrier: 2, tickets: 1, chatSup: 1}},
	{"q64", "users stuck in a login loop after single sign-on", map[string]int{kbSSO: 2, tickets: 1, rn43: 1}},
	{"q65", "on-time delivery rate last quarter", map[string]int{q3: 2}},
	{"q66", "what caused the August outage", map[string]int{q3: 2}},
	{"q67", "Harbourline contract length and renewal notice", map[string]int{msa: 2}},
	{"q68", "cap on liability in the customer agreement", map[string]int{msa: 2}},
	{"q69", "When is payday?", map[string]int{handbook: 2}},
	{"q70", "employer pension contribution", map[string]int{handbook: 2}},
	{"q71", "how can I report wrongdoing anonymously", map[string]int{handbook: 2}},
	{"q72", "may I paste customer shipment data into a public chatbot", map[string]int{aup: 2}},
	{"q73", "delivery windows shown an hour late in the Dublin depot", map[string]int{t58213: 2, t58240: 2, tickets: 1}},
	{"q74", "I left my laptop on the train", map[string]int{sec: 2, chatHD: 1}},
	{"q75", "are USB memory sticks allowed", map[string]int{aup: 2}},
}

var qaPairs = []qa{
	{"qa1", "What is the deadline to remediate a critical vulnerability?", "72 hours", sec},
	{"qa2", "What is the minimum password length?", "14 characters", sec},
	{"qa3", "After how long of inactivity must a laptop screen lock?", "5 minutes", sec},
	{"qa4", "What is the nightly hotel cap in London?", "£180", travel},
	{"qa5", "Which cabin class is allowed for flights of 6 hours or longer?", "Premium economy", travel},
	{"qa6", "What is the mileage rate for the first 10,000 business miles?", "45p per mile", travel},
	{"qa7", "What is the per diem for a full travel day in the UK?", "£45", travel},
	{"qa8", "Within how many days of the expense date must a claim be submitted?", "30 days", expense},
	{"qa9", "Above what amount is a receipt required?", "£25", expense},
	{"qa10", "What is the cap on client entertainment?", "£75 per person", expense},
	{"qa11", "On which day is the weekly expense payment run?", "every Thursday", expense},
	{"qa12", "How long is driver GPS telemetry retained?", "13 months", retention},
	{"qa13", "How long are support chat transcripts retained?", "18 months", retention},
	{"qa14", "How long are database backups kept?", "35 days", retention},
	{"qa15", "How often are Tier 1 vendors reviewed?", "Every 12 months", vendor},
	{"qa16", "What vendor risk score needs CISO sign-off?", "15 or higher", vendor},
	{"qa17", "Within what time must a vendor notify a breach under the contract clauses?", "48 hours", vendor},
	{"qa18", "How quickly must the on-call engineer acknowledge a SEV1 page?", "within 5 minutes", incident},
	{"qa19", "Within how long is the first status page notice published for a SEV1?", "within 30 minutes", incident},
	{"qa20", "Within how long must a postmortem be reviewed?", "within 5 business days", incident},
	{"qa21", "How many days of paid annual leave do full-time employees receive?", "28 days", leave},
	{"qa22", "How long is primary carer parental leave?", "26 weeks", leave},
	{"qa23", "By what date must carried-over leave be used?", "31 March", leave},
	{"qa24", "What is the home office setup stipend?", "£400", remote},
	{"qa25", "For how many working days per year may employees work from another country?", "20 working days", remote},
	{"qa26", "What is the company VPN called?", "Lattice Secure Access", remote},
	{"qa27", "How long does a standard customer onboarding take?", "6 to 8 weeks", onboard},
	{"qa28", "How long does hypercare last after go-live?", "30 days", onboard},
	{"qa29", "When is the release branch cut?", "every Monday at 17:00 UTC", deploy},
	{"qa30", "What share of tenants does the canary serve?", "5% of tenants", deploy},
	{"qa31", "Which command rolls back a release?", "latticectl rollout undo", deploy},
	{"qa32", "How often are database passwords rotated?", "180 days", rotate},
	{"qa33", "Who approves a refund of up to £1,000?", "Support Team Lead", refund},
	{"qa34", "How many stops can a single plan contain?", "2,000 stops", route},
	{"qa35", "How often are routes that have not started re-optimised?", "every 15 minutes", route},
	{"qa36", "How long are API access tokens valid?", "60 minutes", apiAuth},
	{"qa37", "How many API requests per minute may a tenant send?", "600 requests per minute", apiAuth},
	{"qa38", "Which header carries the webhook signature?", "X-Lattice-Signature", webhooks},
	{"qa39", "How long are dock appointment slots?", "15 minutes", yard},
	{"qa40", "What monthly uptime does the Enterprise plan commit to?", "99.95%", sla},
	{"qa41", "What is the recovery point objective?", "15 minutes", whitepap},
	{"qa42", "What is the ISO 27001 certificate number?", "NL-ISMS-2291", whitepap},
	{"qa43", "In which year was Northwind Lattice founded?", "2014", about},
	{"qa44", "What percentage of salary does the company contribute to the pension?", "6% of salary", handbook},
	{"qa45", "What is the initial term of the Harbourline agreement?", "36 months", msa},
	{"qa46", "What was the on-time delivery rate in Q3 2026?", "96.4%", q3},
	{"qa47", "How long was route optimisation unavailable in the August SEV1?", "52 minutes", q3},
	{"qa48", "For how long does the driver app store proof of delivery offline?", "72 hours", faqMD},
	{"qa49", "Within how many days of the invoice date must a dispute be raised?", "45 days", kbInvoice},
	{"qa50", "When will API v2 be switched off?", "31 March 2027", rn42},
	{"qa51", "What minimum state of charge do EV plans keep at every stop?", "15% state of charge", rn43},
	{"qa52", "What is the risk score of Mapforge?", "20", vendorReg},
}
