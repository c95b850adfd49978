package main

// Support knowledge base, reports, contracts and the handbook.

var supportDocs = []doc{
	{
		path: "support/kb-carrier-sync-errors.html", kind: "support", title: "Troubleshooting Carrier Sync Errors",
		author: "Elena Marchetti", owner: "Customer Support", date: "2026-07-14", version: "3",
		body: `
## Symptoms

Tracking events from a carrier stop appearing on shipments, or labels cannot be created. The carrier connection shows a red status in Lattice Connect with one of the error codes below.

## Error codes

| Code | Meaning | What to do |
|---|---|---|
| CARRIER_AUTH_401 | The carrier rejected our credentials | Ask the customer to renew the API credentials in the carrier portal and re-enter them under Lattice Connect > Carriers |
| CARRIER_RATE_LIMITED | The carrier API throttled us | No action; requests are retried automatically for up to 1 hour |
| EDI_PARSE_ERROR | An EDI message could not be parsed | Download the raw message from the connection log and check the segment named in the error |
| CARRIER_TIMEOUT | The carrier API did not answer within 20 seconds | Check the carrier's status page; escalate if it lasts more than 2 hours |

## Resolving an authentication failure

1. Open Lattice Connect > Carriers and select the failing connection.
2. Click Test connection. If the test fails with CARRIER_AUTH_401, the credentials have expired or been revoked.
3. Ask the customer's carrier account owner to generate new credentials. DHL and UPS credentials expire every 12 months.
4. Enter the new credentials and run Test connection again.
5. Click Backfill to fetch the tracking events missed while the connection was down; backfill covers at most the last 7 days.

## When to escalate

Escalate to the integrations team (tier 2) if several customers report the same carrier failing at the same time, or if a backfill does not recover the missing events within 1 hour.
`,
	},
	{
		path: "support/kb-sso-setup.html", kind: "support", title: "Setting up Single Sign-On (SAML)",
		author: "Ravi Menon", owner: "Customer Support", date: "2026-09-10", version: "5",
		body: `
## Before you start

Single sign-on is available on all plans; SCIM user provisioning needs the Enterprise plan. You need administrator rights both in Lattice and in your identity provider. Supported identity providers are Okta, Microsoft Entra ID (formerly Azure AD), Google Workspace and any SAML 2.0 provider.

## Values for your identity provider

| Setting | Value |
|---|---|
| ACS (reply) URL | https://login.northwind-lattice.example/saml/acs |
| Entity ID (audience) | urn:northwind-lattice:tenant:<your tenant id> |
| Name ID format | Email address |
| Required attributes | email, given_name, family_name |

## Steps

1. In Lattice, open Settings > Security > Single sign-on and click Add SAML provider.
2. Create a SAML application in your identity provider with the values above.
3. Upload the identity provider's metadata XML in Lattice, or paste its sign-on URL and signing certificate.
4. Test with one user before you enforce SSO for everyone.
5. Turn on Enforce SSO. Local passwords stop working except for break-glass administrator accounts.

## Common problems

If users land in a login loop, check that the Name ID is the email address and matches the user's email in Lattice exactly. An expired signing certificate in the identity provider causes the error SAML_SIGNATURE_INVALID; upload the new certificate in Lattice before the old one expires.
`,
	},
	{
		path: "support/kb-invoice-disputes.html", kind: "support", title: "Invoice Questions and Disputes",
		author: "Samuel Adeyemi", owner: "Finance", date: "2026-05-05", version: "2",
		body: `
## How billing works

Lattice subscriptions are billed monthly in advance on the first working day of the month, or annually in advance for customers on annual contracts. Usage-based items, such as route optimisations beyond the plan allowance, are billed in arrears on the next invoice. Invoices are payable within 30 days.

## Disputing an invoice

Customers must raise a dispute within 45 days of the invoice date through the help centre, category Billing, or by email to billing@northwind-lattice.example. The dispute must name the invoice number, for example INV-2026-08841, the line items concerned and the reason. Undisputed amounts remain payable on the due date.

Finance acknowledges disputes within 2 business days and resolves them within 15 business days. If the dispute is upheld, we issue a credit note; refunds follow the refund procedure.

## Late payment

Invoices unpaid 30 days after the due date receive a reminder; after 60 days the account may be restricted to read-only access, with 10 days' written notice. Statutory late-payment interest may be charged under the Late Payment of Commercial Debts (Interest) Act 1998.

## Payment methods

Customers pay by bank transfer, direct debit (UK and SEPA) or card. Card payments above £10,000 are not accepted.
`,
	},
	{
		path: "reports/q3-2026-ops-review.pdf", kind: "report", title: "Q3 2026 Operations Review",
		author: "Morag Fenwick", owner: "Executive Team", date: "2026-10-06", version: "final",
		body: `
# Summary

The third quarter of 2026 (July to September) was our busiest quarter so far. Customers planned 17.8 million deliveries on the Lattice platform, up 23% on Q3 2025. Platform availability was 99.97% against a target of 99.95%, and there was one SEV1 incident.

## Headline numbers

| Metric | Q3 2026 | Q2 2026 | Target |
|---|---|---|---|
| Deliveries planned | 17.8 million | 15.9 million | - |
| Platform availability | 99.97% | 99.93% | 99.95% |
| On-time delivery rate (customer average) | 96.4% | 95.8% | 95.0% |
| Support CSAT | 4.6 / 5 | 4.5 / 5 | 4.5 / 5 |
| Median first response time (support) | 41 minutes | 52 minutes | 60 minutes |
| Net revenue retention | 114% | 112% | 110% |
| Logo churn | 1.8% | 2.1% | 2.0% |

# Incidents

The only SEV1 incident of the quarter happened on 19 August 2026, when a failed database migration made route optimisation unavailable for 52 minutes in the EU region. The rollback procedure worked as designed; the postmortem found that the migration had not been tested against a production-sized data set. Action items: a production-sized migration rehearsal in staging for every schema change, and a 10-minute limit on migration locks.

There were four SEV2 incidents, three of them caused by carrier API outages outside our control.

# Customers and support

We onboarded 27 new customers, including two Enterprise accounts with more than 100 depots each. Average onboarding time fell to 7.1 weeks. Support handled 4,212 tickets; the most common categories were carrier connections (22%), user access and SSO (17%) and billing (11%).

# Priorities for Q4

1. Ship EV routing to all customers and collect feedback from the 12 pilot fleets.
2. Reduce the median first response time to under 35 minutes.
3. Complete the ISO 27001 surveillance audit in November.
4. Hire 18 engineers, mostly for the Rotterdam office.
`,
	},
	{
		path: "contracts/master-services-agreement.pdf", kind: "contract", title: "Master Services Agreement - Harbourline Freight Ltd",
		author: "Samuel Adeyemi", owner: "Legal", date: "2026-04-01", version: "signed",
		body: `
# Parties

This Master Services Agreement is made between Northwind Lattice Ltd., a company registered in Scotland with number SC482913 and its registered office at 41 Quayside Row, Leith, Edinburgh EH6 6TJ ("Northwind Lattice"), and Harbourline Freight Ltd., registered office 14 Dock Street, Felixstowe IP11 3TQ ("the Customer").

Customer contact for notices: Gareth Pryce, Operations Director, gareth.pryce@harbourline-freight.example, telephone +44 1394 555 217.

# Term and renewal

The agreement starts on 1 April 2026 and runs for an initial term of 36 months. It then renews automatically for successive periods of 12 months unless either party gives at least 90 days' written notice before the end of the current term.

## Fees

The Customer pays the subscription fees in the order form annually in advance. Fees may be increased at renewal by no more than the UK Consumer Prices Index plus 3 percentage points. Invoices are payable within 30 days.

# Data protection

Northwind Lattice processes personal data as a processor on behalf of the Customer under the data processing agreement in Schedule 3. Customer data is hosted in the eu-west-2 (London) region. Sub-processors are listed on the trust centre, and the Customer is notified 30 days before a new sub-processor is added.

# Liability

Each party's total liability under this agreement in any 12-month period is limited to the fees paid by the Customer in the 12 months before the event giving rise to the claim. The cap does not apply to breaches of confidentiality, data protection obligations or the Customer's payment obligations, for which the cap is three times the annual fees.

# Termination

Either party may terminate for material breach that is not remedied within 30 days of written notice. On termination the Customer may export its data for 30 days, after which Northwind Lattice deletes it as described in the offboarding procedure.

# Governing law

This agreement is governed by the law of Scotland and the parties submit to the exclusive jurisdiction of the Scottish courts.

Signed for Northwind Lattice by Morag Fenwick, Chief Executive Officer, and for the Customer by Gareth Pryce, Operations Director, on 24 March 2026.
`,
	},
	{
		path: "handbook/employee-handbook.pdf", kind: "policy", title: "Employee Handbook",
		author: "Priya Raman", owner: "People Team", date: "2026-01-05", version: "2026",
		body: `
# Welcome

This handbook explains how we work at Northwind Lattice. It summarises our policies; where a policy and the handbook differ, the policy wins. Questions go to the People team at people@northwind-lattice.example.

## Our values

- Deliver for the customer: our customers' drivers are on the road at 05:00, so our software must be ready before they are.
- Own it: whoever notices a problem owns it until someone else explicitly takes it.
- Say it plainly: write clearly, share bad news early, disagree openly and then commit.
- Leave it better: improve the code, the process or the document you touch.

# Pay and benefits

Salaries are paid monthly on the 25th, or on the previous working day when the 25th falls on a weekend or a bank holiday. Payslips are available in Peoplepath.

| Benefit | Details |
|---|---|
| Pension | Company contributes 6% of salary when the employee contributes at least 4% |
| Private health insurance | For employees and their dependants, from the first day |
| Life assurance | 4 times annual salary |
| Learning budget | £1,000 per year for courses, books and conferences |
| Cycle to work scheme | Bikes up to £2,500 through salary sacrifice |

Salary reviews happen once a year in April, based on the performance review cycle that closes in March.

# Conduct

## Code of conduct

We treat colleagues, customers and partners with respect. Harassment, discrimination and bullying are not tolerated. Conflicts of interest, such as a family member working for a supplier, must be declared to your manager and the People team.

## Whistleblowing

If you suspect fraud, a safety risk or a breach of law, report it to your manager, to the General Counsel, or anonymously through the independent whistleblowing hotline on 0800 689 4410. Nobody who raises a concern in good faith will suffer any detriment.

# Leaving the company

The notice period is 1 month during probation and 3 months after it for most roles; it is stated in your employment contract. Return your laptop and security key on your last day. Access to all systems ends on the last working day, as the Information Security Policy requires.
`,
	},
}

// Support tickets, exports and chat logs are written verbatim.

const ticket58213 = `Ticket: T-58213
Opened: 2026-09-14T08:31:22Z
Customer: Brightwell Grocers Ltd (order reference ORD-2026-004417)
Requester: Aisling Byrne <aisling.byrne@brightwell-grocers.example>, +353 1 555 0193
Priority: P2
Subject: Drivers see wrong delivery window after 4.3.0 upgrade

Hi team,

Since the upgrade to Lattice 4.3.0 on Tuesday our drivers in the Dublin depot see delivery windows one hour later than the ones the customers booked. Example: stop 14 on route DUB-0912, 23 Harbour View, Dun Laoghaire, A96 K2X4, was booked for 08:00-10:00 and the driver app shows 09:00-11:00. It looks like the app uses the depot's time zone setting, which we changed from Europe/London to Europe/Dublin last week.

Our finance team also asked me to update the card on file, so here it is: 4539 1488 0343 6467, expiry 11/28. Please let me know if you need anything else.

Regards,
Aisling Byrne
Transport Planning Manager, Brightwell Grocers
`

// ticket58213Copy is the same ticket pasted again by the customer into a
// new ticket, with a new header.
const ticket58213Copy = `Ticket: T-58240
Opened: 2026-09-15T07:02:09Z
Customer: Brightwell Grocers Ltd (order reference ORD-2026-004417)
Requester: Aisling Byrne <aisling.byrne@brightwell-grocers.example>, +353 1 555 0193
Priority: P2
Subject: FW: Drivers see wrong delivery window after 4.3.0 upgrade

Hi team,

Since the upgrade to Lattice 4.3.0 on Tuesday our drivers in the Dublin depot see delivery windows one hour later than the ones the customers booked. Example: stop 14 on route DUB-0912, 23 Harbour View, Dun Laoghaire, A96 K2X4, was booked for 08:00-10:00 and the driver app shows 09:00-11:00. It looks like the app uses the depot's time zone setting, which we changed from Europe/London to Europe/Dublin last week.

Our finance team also asked me to update the card on file, so here it is: 4539 1488 0343 6467, expiry 11/28. Please let me know if you need anything else.

Regards,
Aisling Byrne
Transport Planning Manager, Brightwell Grocers
`

const ticket60117 = `Ticket: T-60117
Opened: 2026-09-29T16:45:03Z
Customer: Kestrel Parcel Network BV
Requester: Joost van der Berg <joost.vanderberg@kestrel-parcel.example>, +31 10 555 2841
Priority: P1
Subject: Webhook deliveries failing with 401 from our endpoint

Our webhook endpoint started rejecting your calls at 2026-09-29T14:10:00Z. Our gateway logs show the requests coming from 203.0.113.45 and 198.51.100.23, and from the IPv6 address 2001:db8:4f2a::17. We rotated our secrets this morning. To help you debug, here is the config our developer used (sorry, this includes keys):

LATTICE_WEBHOOK_SECRET=whsec_7f3a9c2e
AWS_ACCESS_KEY_ID=AKIAQ4NWLX7R2PZK5M3D
GITHUB_TOKEN=ghp_R8mT2vXq9LwE4nY7bK1cZ5hJ3pA6sD0fG2uH

The failing build is version 2.14.3 of our receiver, and the last successful event id was evt_01J8Z6K4QF2M.

Support note (Elena Marchetti, 2026-09-29T17:32:40Z): customer told to revoke the pasted keys; security informed, see incident INC-2026-031. Root cause: the customer's new signing secret was not updated in their receiver. Resolved after they re-entered the secret shown in Webhooks > Subscriptions.
`

const vendorRegisterCSV = `vendor_id,vendor,service,tier,risk_score,data_access,business_owner,contact_email,last_review,next_review,annual_value_gbp
V-001,Amazon Web Services,Cloud hosting (eu-west-2 and us-east-2),1,12,Restricted,Daniel Kowalczyk,aws-account-team@amazon.example,2026-02-10,2027-02-10,1840000
V-002,Twilio,SMS notifications to delivery recipients,1,16,Restricted,Ines Carvalho,enterprise-support@twilio.example,2026-03-03,2027-03-03,212000
V-003,Samsara,Telematics data feed,2,9,Confidential,Ravi Menon,partners@samsara.example,2025-06-18,2027-06-18,0
V-004,Zendesk,Support ticketing,1,15,Restricted,Elena Marchetti,renewals@zendesk.example,2026-05-21,2027-05-21,96000
V-005,Ledgerly,Expense management,2,8,Confidential,Samuel Adeyemi,accounts@ledgerly.example,2025-09-09,2027-09-09,18500
V-006,TripLedger,Business travel booking,3,4,Internal,Samuel Adeyemi,hello@tripledger.example,2024-11-04,,7200
V-007,Peoplepath,HR information system and payroll,1,15,Restricted,Priya Raman,support@peoplepath.example,2026-01-15,2027-01-15,64000
V-008,1Password,Password manager,1,10,Restricted,Tobias Okafor,business@1password.example,2026-04-02,2027-04-02,22800
V-009,Cloudsmith,Package registry,2,6,Confidential,Daniel Kowalczyk,support@cloudsmith.example,2025-10-27,2027-10-27,14400
V-010,Mapforge,Map tiles and traffic data,1,20,Restricted,Ines Carvalho,sales@mapforge.example,2026-07-08,2027-07-08,388000
V-011,Brightdesk Catering,Office catering Edinburgh,3,2,Internal,Priya Raman,orders@brightdesk.example,2025-01-20,,31000
V-012,Sentinel Pentest Ltd,Penetration testing,2,12,Confidential,Tobias Okafor,engagements@sentinel-pentest.example,2026-03-30,2028-03-30,58000
`

const ticketExportCSV = `ticket_id,created_at,customer,requester,requester_email,requester_phone,priority,category,subject,description,status,csat
T-57902,2026-09-02T09:14:55Z,Harbourline Freight Ltd,Gareth Pryce,gareth.pryce@harbourline-freight.example,+44 1394 555 217,P3,Billing,Question about usage charges,"Our August invoice INV-2026-08841 shows 1,240 extra optimisations. We thought our plan allowed 5,000 per month. Can you explain how they are counted?",solved,5
T-57955,2026-09-03T13:40:12Z,Kestrel Parcel Network BV,Joost van der Berg,joost.vanderberg@kestrel-parcel.example,+31 10 555 2841,P2,Carrier connections,DHL tracking events missing,"Since yesterday no DHL tracking events arrive for our Rotterdam depot. Connection shows CARRIER_AUTH_401.",solved,4
T-58011,2026-09-05T07:25:31Z,Brightwell Grocers Ltd,Aisling Byrne,aisling.byrne@brightwell-grocers.example,+353 1 555 0193,P3,User access,New dispatcher cannot log in,"Our new dispatcher Siobhan Kelly gets a login loop after SSO. Her email is siobhan.kelly+dispatch@brightwell-grocers.example.",solved,5
T-58102,2026-09-08T15:02:47Z,Caledonian Wholesale Foods,Fraser McLeod,fraser.mcleod@caledonian-wholesale.example,+44 141 555 0187,P4,Feature request,Export routes to Excel,"Could the dispatch console export a route sheet as XLSX rather than CSV? Our drivers like printed sheets.",open,
T-58213,2026-09-14T08:31:22Z,Brightwell Grocers Ltd,Aisling Byrne,aisling.byrne@brightwell-grocers.example,+353 1 555 0193,P2,Driver app,Drivers see wrong delivery window after 4.3.0 upgrade,"Delivery windows shown one hour late in the Dublin depot after changing the depot time zone to Europe/Dublin.",solved,3
T-58377,2026-09-18T10:11:09Z,Harbourline Freight Ltd,Gareth Pryce,gareth.pryce@harbourline-freight.example,+44 1394 555 217,P3,Billing,Service credit for May outage,"Requesting the service credit for May 2026 when Lattice Route availability was 98.7%.",solved,4
T-58420,2026-09-19T08:55:40Z,Meridian Pharma Logistics Inc,Dana Whitfield,dana.whitfield@meridian-pharma.example,+1 312 555 0164,P1,Route optimisation,Optimisation jobs stuck in queued state,"All optimisation jobs for our Chicago depots have been queued for 40 minutes. We dispatch at 05:30 CT.",solved,2
T-58533,2026-09-22T12:20:18Z,Caledonian Wholesale Foods,Fraser McLeod,fraser.mcleod@caledonian-wholesale.example,+44 141 555 0187,P3,Webhooks,Duplicate delivered events,"We receive two shipment.delivered events for some stops where the driver was offline.",solved,4
T-58601,2026-09-24T17:48:02Z,Meridian Pharma Logistics Inc,Dana Whitfield,dana.whitfield@meridian-pharma.example,+1 312 555 0164,P2,Security,Request for SOC 2 report,"Our vendor risk team needs your latest SOC 2 Type II report and ISO 27001 certificate. Our IP allow-list entry is 192.0.2.118.",solved,5
T-60117,2026-09-29T16:45:03Z,Kestrel Parcel Network BV,Joost van der Berg,joost.vanderberg@kestrel-parcel.example,+31 10 555 2841,P1,Webhooks,Webhook deliveries failing with 401 from our endpoint,"Webhook endpoint rejecting calls after the customer rotated its secrets; keys pasted in the ticket were revoked.",solved,4
T-60233,2026-10-01T06:12:44Z,Northpoint Retail Group,Maya Okonkwo,maya.okonkwo@northpoint-retail.example,+44 113 555 0129,P2,EV routing,EV routes ignore charger opening hours,"Since enabling EV routing, two vans were sent to a depot charger that is closed after 20:00. SSN field in our HR sync shows 512-44-8391 for a driver, please remove it from your logs.",open,
T-60254,2026-10-01T09:31:26Z,Harbourline Freight Ltd,Gareth Pryce,gareth.pryce@harbourline-freight.example,+44 1394 555 217,P4,Billing,Update billing contact,"Please send invoices to accounts.payable@harbourline-freight.example from November. Pay by transfer from DE89 3704 0044 0532 0130 00.",solved,5
`
