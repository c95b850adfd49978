package main

func allDocs() []doc {
	var out []doc
	for _, set := range [][]doc{policyDocs, procedureDocs, productDocs, supportDocs} {
		out = append(out, set...)
	}
	return out
}

func allRaws() []raw {
	return []raw{
		{"support/tickets/T-58213.txt", ticket58213},
		{"support/tickets/T-58240.txt", ticket58213Copy},
		{"support/tickets/T-60117.txt", ticket60117},
		{"registers/vendor-register.csv", vendorRegisterCSV},
		{"support/ticket-export.csv", ticketExportCSV},
		{"chat/support-chat-2026-09.jsonl", jsonl(supportChats)},
		{"chat/it-helpdesk-2026-10.jsonl", jsonl(helpdeskChats)},
		{"chat/answer-preferences.jsonl", jsonl(preferencePairs)},
	}
}

var plantedPII = []pii{
	// Emails
	{"email", "security@northwind-lattice.example", "policies/security.md"},
	{"email", "finance@northwind-lattice.example", "policies/expense.md"},
	{"email", "aisling.byrne@brightwell-grocers.example", "support/tickets/T-58213.txt"},
	{"email", "joost.vanderberg@kestrel-parcel.example", "support/tickets/T-60117.txt"},
	{"email", "gareth.pryce@harbourline-freight.example", "contracts/master-services-agreement.pdf"},
	{"email", "callum.fraser.92@mailbox.example", "hr/new-hire-checklist.docx"},
	{"email", "siobhan.kelly+dispatch@brightwell-grocers.example", "support/ticket-export.csv"},
	{"email", "dana.whitfield@meridian-pharma.example", "support/ticket-export.csv"},
	{"email", "accounts.payable@harbourline-freight.example", "support/ticket-export.csv"},
	// Phone numbers, international formats
	{"phone", "+44 20 7946 0777", "policies/travel.md"},
	{"phone", "+44 20 7946 0321", "policies/incident-response.pdf"},
	{"phone", "+353 1 555 0193", "support/tickets/T-58213.txt"},
	{"phone", "+31 10 555 2841", "support/tickets/T-60117.txt"},
	{"phone", "+44 1394 555 217", "contracts/master-services-agreement.pdf"},
	{"phone", "+44 7700 900418", "hr/new-hire-checklist.docx"},
	{"phone", "+1 312 555 0164", "support/ticket-export.csv"},
	{"phone", "+1 415 555 0142", "product/sla.docx"},
	{"phone", "+44 113 555 0129", "chat/support-chat-2026-09.jsonl"},
	{"phone", "0800 689 4410", "handbook/employee-handbook.pdf"},
	// Payment data
	{"credit_card", "4539 1488 0343 6467", "support/tickets/T-58213.txt"},
	{"iban", "GB82 WEST 1234 5698 7654 32", "procedures/handle-refund.html"},
	{"iban", "DE89 3704 0044 0532 0130 00", "support/ticket-export.csv"},
	// Government identifiers
	{"ssn", "512-44-8391", "support/ticket-export.csv"},
	{"national_insurance", "QQ 12 34 56 C", "hr/new-hire-checklist.docx"},
	// Network addresses
	{"ip", "203.0.113.45", "support/tickets/T-60117.txt"},
	{"ip", "198.51.100.23", "support/tickets/T-60117.txt"},
	{"ip", "2001:db8:4f2a::17", "support/tickets/T-60117.txt"},
	{"ip", "192.0.2.118", "support/ticket-export.csv"},
	// Dates of birth and addresses
	{"dob", "14/03/1991", "hr/new-hire-checklist.docx"},
	{"address", "27 Marchmont Crescent, Edinburgh EH9 1HN", "hr/new-hire-checklist.docx"},
	{"address", "23 Harbour View, Dun Laoghaire, A96 K2X4", "support/tickets/T-58213.txt"},
	{"address", "14 Dock Street, Felixstowe IP11 3TQ", "contracts/master-services-agreement.pdf"},
	// Secrets
	{"aws_key", "AKIAQ4NWLX7R2PZK5M3D", "support/tickets/T-60117.txt"},
	{"aws_key", "AKIAQ4NWLX7R2PZK5M3D", "procedures/rotate-credentials.docx"},
	{"github_token", "ghp_R8mT2vXq9LwE4nY7bK1cZ5hJ3pA6sD0fG2uH", "support/tickets/T-60117.txt"},
	{"github_token", "ghp_R8mT2vXq9LwE4nY7bK1cZ5hJ3pA6sD0fG2uH", "procedures/rotate-credentials.docx"},
	{"password_assignment", "LATTICE_WEBHOOK_SECRET=whsec_7f3a9c2e", "support/tickets/T-60117.txt"},
	// Person names (private individuals and customer contacts)
	{"person", "Aisling Byrne", "support/tickets/T-58213.txt"},
	{"person", "Joost van der Berg", "support/tickets/T-60117.txt"},
	{"person", "Gareth Pryce", "contracts/master-services-agreement.pdf"},
	{"person", "Callum Fraser", "hr/new-hire-checklist.docx"},
	{"person", "Siobhan Kelly", "support/ticket-export.csv"},
	{"person", "Dana Whitfield", "support/ticket-export.csv"},
	{"person", "Fraser McLeod", "support/ticket-export.csv"},
	{"person", "Maya Okonkwo", "chat/support-chat-2026-09.jsonl"},
}

var plantedNegatives = []negative{
	{"order_number", "ORD-2026-004417", "support/tickets/T-58213.txt"},
	{"invoice_number", "INV-2026-08841", "support/kb-invoice-disputes.html"},
	{"ticket_number", "T-58377", "procedures/handle-refund.html"},
	{"company_number", "SC482913", "contracts/master-services-agreement.pdf"},
	{"certificate_number", "NL-ISMS-2291", "product/security-whitepaper.pdf"},
	{"version", "v4.3.1", "procedures/deploy-release.md"},
	{"version", "4.2.0-rc.2", "release-notes/v4.2.md"},
	{"version", "2.14.3", "support/tickets/T-60117.txt"},
	{"timestamp", "2026-09-14T08:31:22Z", "support/tickets/T-58213.txt"},
	{"timestamp", "2026-09-14T08:31:22Z", "product/webhooks.md"},
	{"event_id", "evt_01J8Z6K4QF2M", "support/tickets/T-60117.txt"},
	{"route_id", "DUB-0912", "support/tickets/T-58213.txt"},
	{"issue_key", "LAT-8812", "release-notes/v4.2.md"},
	{"date", "24 March 2026", "contracts/master-services-agreement.pdf"},
	{"vendor_id", "V-010", "registers/vendor-register.csv"},
	{"money", "£2,340.00", "procedures/handle-refund.html"},
}

var nearDups = []nearDup{
	{"policies/data-retention.md", "policies/archive/data-retention-2024.md", "policy revised: two retention periods changed, version and date differ, one section added"},
	{"policies/remote-work.docx", "policies/archive/remote-work-2025.docx", "policy revised: stipend £300 to £400, days abroad 15 to 20"},
	{"faq/faq.md", "faq/faq.html", "same FAQ exported as Markdown and as an HTML help-centre page"},
	{"support/tickets/T-58213.txt", "support/tickets/T-58240.txt", "ticket pasted twice: new ticket id, timestamp and FW: prefix, same body"},
}
