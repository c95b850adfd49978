package main

// Procedures: step-by-step documents with numbers retrieval can find.

var procedureDocs = []doc{
	{
		path: "procedures/onboard-customer.pdf", kind: "procedure", title: "Customer Onboarding Procedure",
		author: "Elena Marchetti", owner: "Customer Success", date: "2026-02-16", version: "4.1",
		body: `
# Overview

This procedure takes a new customer from signed contract to go-live on the Lattice platform. A standard onboarding takes 6 to 8 weeks; customers with more than 50 depots or custom EDI mappings follow the Enterprise track, which is planned at 12 weeks. Every customer has a named Customer Success Manager (CSM) from signature until the end of hypercare.

## Roles

| Role | Responsibility |
|---|---|
| Customer Success Manager | Owns the plan, runs the weekly status call, signs off go-live |
| Solutions Engineer | Tenant configuration, SSO, data import, carrier connections |
| Support Engineer | Joins from week 4 and owns tickets after go-live |
| Customer project lead | Provides data, test users and the UAT sign-off |

# Steps

## Step 1: Kick-off

Hold the kick-off call within 5 business days of contract signature. Agree the go-live date, the list of depots for the first wave, and the data owners on the customer side. Send the onboarding questionnaire the same day.

## Step 2: Create the tenant

The Solutions Engineer creates the tenant in the admin console under Tenants > New, chooses the hosting region (eu-west-2 London or us-east-2 Ohio) that the contract names, and enables the modules the customer bought: Lattice Route, Lattice Dispatch, Lattice Yard or Lattice Connect.

## Step 3: Single sign-on and users

Configure SAML single sign-on with the customer's identity provider and, if they use it, SCIM provisioning. Create at most 5 local break-glass administrator accounts; all other users come through SSO.

## Step 4: Data import

Import depots, vehicles, drivers and 90 days of historical shipments using the CSV templates in the admin console. Historical shipments train the ETA model; with fewer than 30 days of history, ETA accuracy is reduced during the first month.

## Step 5: Carrier and telematics connections

Connect carriers through Lattice Connect and telematics providers such as Samsara or Geotab. Each connection is tested with at least 20 real shipments before UAT.

## Step 6: User acceptance testing

The customer runs the UAT script for two weeks. Go-live requires written UAT sign-off from the customer project lead and no open P1 or P2 defects.

# Go-live and hypercare

Go-live happens on a Tuesday or Wednesday, never on a Friday or before a public holiday. After go-live the account enters 30 days of hypercare: the CSM holds daily check-ins in the first week, the Support Engineer triages tickets from the customer within 1 hour during business hours, and the Solutions Engineer is on standby for configuration changes.

At the end of hypercare the CSM runs a handover call, confirms the success criteria from the kick-off, and moves the account to the standard support model described in the Service Level Agreement.
`,
	},
	{
		path: "procedures/deploy-release.md", kind: "procedure", title: "Deploying a Release",
		author: "Daniel Kowalczyk", owner: "Platform Engineering", date: "2026-07-01", version: "6.0",
		body: `
## Release train

The Lattice platform ships on a weekly release train. The release branch is cut from main every Monday at 17:00 UTC (the code freeze) and deployed to production on Tuesday. Release versions follow semantic versioning, for example v4.3.0 for the weekly release and v4.3.1 for a hotfix on top of it.

## Before the deployment

1. Check that the release pipeline for the release branch is green, including the end-to-end suite against the staging environment.
2. Open a change record in ChangeBoard with the release notes, the rollback plan and the on-call engineer's name. Standard releases are pre-approved; releases that include a database migration need approval from a second senior engineer.
3. Post the planned start time in the #releases channel at least 1 hour in advance.

## Deployment steps

1. Deploy to the canary cell with latticectl rollout start --release v4.3.0 --cell canary.
2. The canary serves 5% of tenants for 2 hours. Watch the release dashboard: error rate, p95 API latency and route-optimisation job failures.
3. If the canary error rate stays below 0.5% and p95 latency rises by less than 10%, promote with latticectl rollout promote --release v4.3.0.
4. Production cells are updated one at a time, at least 20 minutes apart.
5. Close the change record with the final status.

## Rolling back

Roll back immediately, without waiting for a root cause, if the error budget burn rate exceeds 10 times the normal rate or if any SEV1 or SEV2 incident is linked to the release. Run latticectl rollout undo --release v4.3.0; a rollback of one cell takes about 6 minutes. Database migrations must be backward compatible for one release so that a rollback never needs a down-migration.

## Hotfixes

A hotfix skips the weekly train but not the canary: it still runs in the canary cell for at least 30 minutes. Hotfixes on Fridays after 14:00 UTC need approval from the VP of Engineering.

~~~
latticectl rollout start   --release v4.3.1 --cell canary
latticectl rollout status  --release v4.3.1
latticectl rollout promote --release v4.3.1
latticectl rollout undo    --release v4.3.1
~~~
`,
	},
	{
		path: "procedures/rotate-credentials.docx", kind: "procedure", title: "Credential Rotation Procedure",
		author: "Tobias Okafor", owner: "Security Office", date: "2026-06-08", version: "2.0",
		body: `
# Rotation schedule

Credentials are rotated on a fixed schedule and immediately when exposure is suspected. All secrets live in HashiCorp Vault under the path secret/platform/; nothing is rotated by editing configuration files by hand.

| Credential | Rotation period | Owner |
|---|---|---|
| Customer API client secrets (issued by us) | On customer request, and at least every 12 months | Customer |
| Internal service API keys | 90 days | Owning team |
| Database passwords | 180 days | Platform Engineering |
| AWS IAM access keys for CI | 90 days | Platform Engineering |
| TLS certificates | Automatically, 30 days before expiry | Platform Engineering |

# Emergency rotation

If a credential may have been exposed, for example committed to a repository, pasted into a ticket or chat, or seen in a log, treat it as compromised. Declare a SEV1 security incident and rotate the credential within 4 hours of discovery, then review its usage logs for the previous 30 days.

Example from incident INC-2026-031: an AWS access key AKIAQ4NWLX7R2PZK5M3D and a GitHub token ghp_R8mT2vXq9LwE4nY7bK1cZ5hJ3pA6sD0fG2uH were pasted into support ticket T-60117. Both were revoked 47 minutes after discovery.

# Rotation steps

1. Create the new credential in the provider (AWS IAM, the database, GitHub) with the same permissions as the old one.
2. Write the new value to Vault with vault kv put secret/platform/<service>/<name> value=<secret>.
3. Trigger a rolling restart of the consuming services so they read the new value; services read secrets only at start-up.
4. Verify in the service dashboards that requests succeed with the new credential.
5. Disable the old credential and wait 24 hours before deleting it, so that a forgotten consumer shows up as an authentication error instead of an outage.
6. Record the rotation in the credential inventory with the date and the ticket number.
`,
	},
	{
		path: "procedures/handle-refund.html", kind: "procedure", title: "Handling a Refund or Service Credit",
		author: "Elena Marchetti", owner: "Customer Support", date: "2026-04-27", version: "1.4",
		body: `
## When a refund is due

Customers may be owed a service credit when we miss the uptime commitment in their Service Level Agreement, or a refund when they were invoiced in error, for example for users who had been deactivated before the billing date. Goodwill credits outside these cases need approval from the Head of Customer Success.

## Approval limits

| Amount | Approver |
|---|---|
| Up to £1,000 | Support Team Lead |
| £1,000.01 to £5,000 | Head of Customer Success |
| Over £5,000 | Finance Controller (Samuel Adeyemi) |

## Steps

1. Confirm the claim: check the uptime report for the month or compare the invoice with the user audit log.
2. Calculate the amount. Service credits are a percentage of the monthly fee for the affected module, as set out in the SLA; they are never paid for more than one month per claim.
3. Get approval in the refund form in the billing system, attaching the evidence.
4. Credits are applied to the next invoice. A cash refund is only made when the contract has ended or the customer asks in writing; it goes back to the original payment method or by bank transfer.
5. Send the customer the confirmation template and close the ticket with the category Billing / Refund.

Refunds are processed within 10 business days of approval. The customer must raise a claim within 60 days of the end of the month in which the SLA was missed.

## Bank transfer details

For bank transfers, Finance needs the account name and IBAN on the customer's letterhead. Example from ticket T-58377: Harbourline Freight Ltd., IBAN GB82 WEST 1234 5698 7654 32, refund of £2,340.00 for May 2026. Never accept changed bank details by email alone: call the customer's registered contact to confirm.
`,
	},
	{
		path: "procedures/customer-offboarding.md", kind: "procedure", title: "Customer Offboarding Procedure",
		author: "Elena Marchetti", owner: "Customer Success", date: "2026-03-09", version: "1.2",
		body: `
## Trigger

This procedure starts when a customer gives notice of termination or when the contract expires without renewal. The Customer Success Manager opens an offboarding ticket on the day notice is received.

## Timeline

1. Day 0: confirm the termination date in writing and remind the customer of the data export options.
2. Up to the termination date: the customer keeps full access.
3. Termination date + 30 days: the customer may still export data through a read-only account. Exports are full JSON or CSV dumps of shipments, routes and proof-of-delivery images.
4. Termination date + 60 days: the tenant is deleted from production. Backups expire 35 days later.
5. Within 10 days of deletion the Data Protection Office sends a certificate of deletion to the customer.

## Integrations

Disable webhooks and revoke API clients on the termination date. Carrier connections in Lattice Connect are disconnected so that carriers stop sending status updates for that customer.

## Final invoice

Finance issues the final invoice on the termination date. Unused prepaid fees are refunded only if the contract says so.
`,
	},
	{
		path: "security/access-review.docx", kind: "procedure", title: "Quarterly Access Review Procedure",
		author: "Tobias Okafor", owner: "Security Office", date: "2026-01-19", version: "1.1",
		body: `
# Purpose

Every quarter, the owner of each in-scope system confirms that every person with access still needs it, at the right level. The review is evidence for our SOC 2 Type II and ISO 27001 audits.

# Schedule

Reviews start on the first working day of January, April, July and October and must be completed within 15 working days. The Security Office sends the access lists exported from each system and tracks completion.

# Systems in scope

| System | Owner | Privileged roles |
|---|---|---|
| AWS production accounts | Daniel Kowalczyk | AdministratorAccess, BreakGlass |
| Lattice admin console | Elena Marchetti | Tenant admin, Support impersonation |
| GitHub organisation | Daniel Kowalczyk | Owner, Maintain |
| HashiCorp Vault | Tobias Okafor | root policy, platform-admin |
| Peoplepath HR system | Priya Raman | HR admin, Payroll |
| Ledgerly expenses | Samuel Adeyemi | Finance admin |

# Review steps

1. Compare the access list with the current staff list from Peoplepath; remove leavers immediately.
2. For each remaining user confirm the role matches their job. Remove privileges that have not been used in 90 days.
3. Record decisions in the review sheet: keep, reduce or remove.
4. Carry out removals within 5 working days and attach screenshots or exports as evidence.
5. The system owner signs the review; the Security Office files it for the auditors.

Support impersonation in the admin console is granted for at most 8 hours at a time and every session is logged.
`,
	},
	{
		path: "hr/new-hire-checklist.docx", kind: "procedure", title: "New Hire Checklist",
		author: "Priya Raman", owner: "People Team", date: "2026-02-23", version: "1.6",
		body: `
# Before day one

The hiring manager submits the new-hire form in Peoplepath at least 10 working days before the start date. IT ships the laptop so that it arrives 2 working days before the start date.

Example of a completed new-hire record (test data): Name: Callum Fraser. Date of birth: 14/03/1991. Home address: 27 Marchmont Crescent, Edinburgh EH9 1HN. Personal email: callum.fraser.92@mailbox.example. Mobile: +44 7700 900418. National Insurance number: QQ 12 34 56 C.

# First week

| When | What | Who |
|---|---|---|
| Day 1, 09:30 | Welcome session and laptop set-up | People team and IT |
| Day 1 | Security awareness training (45 minutes) | New hire |
| Day 2 | Meet your onboarding buddy | Hiring manager |
| Day 3 | Product overview of Lattice Route and Dispatch | Product team |
| Day 5 | First 1:1 and 30-day goals | Hiring manager |

# First 90 days

- By day 30: complete the data protection training and read the Information Security Policy.
- By day 60: shadow two customer calls with Customer Success.
- By day 90: probation review with the hiring manager; the People team confirms the outcome in writing within 5 working days.

# Equipment

Every new hire gets a 14-inch laptop, a 27-inch monitor, a headset and the home office stipend described in the Remote Work Policy. Engineers may choose a 16-inch laptop instead.
`,
	},
}
