package main

// Product documentation, FAQ, release notes and company pages.

var productDocs = []doc{
	{
		path: "product/lattice-route-overview.md", kind: "product", title: "Lattice Route Overview",
		author: "Ines Carvalho", owner: "Product", date: "2026-05-18", version: "4.3",
		body: `
## What Lattice Route does

Lattice Route plans delivery and collection routes for fleets of vans and trucks. Dispatchers import the day's orders, choose the depots and vehicles, and Lattice Route returns a plan that minimises driving time and late arrivals while respecting every constraint.

## Supported constraints

- Delivery time windows, including several windows per stop.
- Vehicle capacity by weight, volume and pallet count.
- Driver shift length and statutory breaks (EU and UK drivers' hours rules).
- Vehicle restrictions such as low-emission zones, height limits and refrigerated goods.
- Skills: a stop that needs a two-person crew or a tail-lift is only assigned to a matching vehicle.

## Limits

A single plan may contain up to 2,000 stops and 150 vehicles. Larger fleets are split into regions that are planned in parallel. A plan of 1,000 stops usually finishes in under 90 seconds.

## Re-optimisation during the day

When traffic, a cancelled order or a new urgent order changes the picture, Lattice Route re-optimises the routes that have not yet started every 15 minutes, or on demand from the dispatch console. Drivers receive the changes in the Lattice Driver app; stops already in progress are never moved.

## ETA accuracy

Estimated times of arrival combine historical stop durations with live traffic. On customers with at least 90 days of history, 90% of arrivals fall within 7 minutes of the ETA shown to the recipient one hour before arrival.

## Key terms

A **plan** is the set of routes for one depot and one day. A **route** is the ordered list of stops for one vehicle. A **stop** is an address with one or more orders to deliver or collect.
`,
	},
	{
		path: "product/api-authentication.md", kind: "product", title: "Lattice API: Authentication and Rate Limits",
		author: "Ravi Menon", owner: "Developer Experience", date: "2026-06-22", version: "3.4",
		body: `
## Base URL

The Lattice API v3 is served at https://api.northwind-lattice.example/v3 for tenants in the EU region and https://api.us.northwind-lattice.example/v3 for tenants in the US region. All requests use HTTPS with TLS 1.2 or newer.

## Creating API credentials

A tenant administrator creates an API client in the admin console under Settings > API clients. Each client gets a client ID and a client secret. The secret is shown only once; store it in a secret manager. Client secrets start with the prefix nwl_live_ in production and nwl_test_ in the sandbox.

## Getting an access token

The API uses the OAuth 2.0 client credentials grant. Send the client ID and secret to the token endpoint:

~~~
curl -X POST https://api.northwind-lattice.example/oauth/token \
  -d grant_type=client_credentials \
  -d client_id=$LATTICE_CLIENT_ID \
  -d client_secret=$LATTICE_CLIENT_SECRET \
  -d scope="shipments:read routes:write"
~~~

Access tokens are JWTs valid for 60 minutes. Request a new token when the old one expires; do not request a token per API call.

## Scopes

| Scope | Allows |
|---|---|
| shipments:read | List and read shipments and their events |
| shipments:write | Create and update shipments |
| routes:read | Read plans and routes |
| routes:write | Create plans and trigger optimisation |
| webhooks:manage | Register and delete webhook subscriptions |

## Rate limits

Each tenant may send 600 requests per minute, with bursts of up to 100 requests per second. Optimisation requests (POST /v3/plans/{id}/optimise) are limited separately to 30 per minute. When a limit is exceeded the API answers 429 Too Many Requests with a Retry-After header giving the number of seconds to wait.

## Errors

Errors use RFC 9457 problem details. A 401 means the token is missing or expired; a 403 means the token lacks the scope for the endpoint.
`,
	},
	{
		path: "product/webhooks.md", kind: "product", title: "Webhooks",
		author: "Ravi Menon", owner: "Developer Experience", date: "2026-06-22", version: "3.4",
		body: `
## Events

Webhooks notify your systems when something happens in your tenant. Subscribe to one or more of these event types:

| Event | Sent when |
|---|---|
| shipment.created | A shipment is created by API, import or EDI |
| shipment.delivered | The driver records proof of delivery |
| shipment.exception | A delivery fails: no access, refused, damaged |
| route.published | A dispatcher publishes a plan to drivers |
| route.completed | The last stop of a route is completed |

## Verifying signatures

Every webhook request carries an X-Lattice-Signature header containing an HMAC-SHA256 of the raw request body, keyed with your subscription's signing secret and encoded as hex. Compute the HMAC over the raw bytes before parsing the JSON, compare it in constant time, and reject requests whose X-Lattice-Timestamp header is more than 5 minutes old, to prevent replay attacks.

## Delivery and retries

Your endpoint must answer with a 2xx status within 10 seconds. Failed deliveries are retried with exponential backoff, starting at 30 seconds, for up to 24 hours and at most 12 attempts. After 12 failed attempts the event is dropped and shown in the admin console under Webhooks > Failed deliveries, where it can be replayed for 7 days.

A subscription whose deliveries fail continuously for 72 hours is disabled automatically and the tenant administrators receive an email.

## Ordering

Events are delivered at least once and not necessarily in order. Use the event id to deduplicate and the occurred_at timestamp, for example 2026-09-14T08:31:22Z, to order events.
`,
	},
	{
		path: "product/yard-management.md", kind: "product", title: "Lattice Yard: Dock Scheduling and Gate Check-in",
		author: "Ines Carvalho", owner: "Product", date: "2026-04-06", version: "2.1",
		body: `
## Overview

Lattice Yard manages what happens between the gate and the loading dock of a warehouse: carriers book dock appointments, drivers check in at the gate, and yard staff see every trailer on a live yard map.

## Dock appointments

Carriers book appointments through the carrier portal in slots of 15 minutes. Each dock door has its own calendar and can be restricted to inbound, outbound or refrigerated loads. A carrier that arrives more than 30 minutes after its slot is moved to the next free slot; three late arrivals in 30 days flag the carrier in the performance report.

## Gate check-in

Drivers check in at a kiosk or by scanning a QR code with their phone. Check-in records the trailer number, the seal number and the appointment reference. Average check-in time at customer sites fell from 6 minutes with paper forms to 90 seconds with the kiosk.

## Detention

Lattice Yard starts a detention clock when a trailer has waited 2 hours beyond its appointment time, the free time most carrier contracts allow. Detention charges are calculated from the carrier's contract rates and exported to the freight audit system.
`,
	},
	{
		path: "product/dispatch-console.html", kind: "product", title: "Using the Dispatch Console",
		author: "Ines Carvalho", owner: "Product", date: "2026-08-10", version: "4.3",
		body: `
## The dispatch board

The dispatch console shows every route of the day on a map and on a timeline. Routes are coloured by status: grey for planned, blue for in progress, green for completed and red for late. A route turns red as soon as its predicted arrival at any stop is later than the end of that stop's time window.

## Moving stops between routes

Drag a stop from one route to another on the timeline. The console recalculates both routes and shows the effect on distance and on-time arrivals before you confirm. Stops that a driver has already started cannot be moved.

## Keyboard shortcuts

| Shortcut | Action |
|---|---|
| G then R | Go to routes |
| G then S | Go to shipments |
| / | Search shipments by reference or postcode |
| O | Re-optimise the selected routes |
| Shift + P | Publish the plan to drivers |

## Messaging drivers

Dispatchers can send a message to one driver or to every driver of a depot. Messages appear in the Lattice Driver app with a sound alert; the driver acknowledges with one tap. Messages are kept with the route history.

## Map layers

Turn on the traffic, low-emission zone and depot catchment layers from the layers menu. The weather layer shows rain, snow and wind warnings along today's routes.
`,
	},
	{
		path: "product/integrations.html", kind: "product", title: "Integrations Catalogue", bare: true,
		author: "Ravi Menon", owner: "Developer Experience", date: "2026-07-20", version: "4.3",
		body: `
## Carriers

Lattice Connect has built-in connections to DHL, DPD, FedEx, UPS, GLS and Royal Mail for labels, tracking events and proof of delivery. Regional carriers connect through EDI or the carrier API toolkit. A new carrier connection is usually live within 10 business days.

## EDI

We support ANSI X12 EDI 204 (load tender), 214 (shipment status) and 210 (freight invoice), and EDIFACT IFTMIN and IFTSTA messages, over AS2 or SFTP. EDI mappings are configured by our Solutions Engineers during onboarding.

## Telematics

Live vehicle positions come from Samsara, Geotab, Webfleet and Teltonika devices. Positions are ingested every 30 seconds and used for live ETAs.

## ERP and warehouse systems

Prebuilt connectors exist for SAP S/4HANA, Oracle NetSuite, Microsoft Dynamics 365 and Manhattan WMS. Orders flow in every 5 minutes; delivery confirmations flow back as soon as the driver records them.

## Building your own

Everything the connectors do is available through the Lattice API v3 and webhooks, described in the developer documentation.
`,
	},
	{
		path: "product/security-whitepaper.pdf", kind: "product", title: "Lattice Platform Security Whitepaper",
		author: "Tobias Okafor", owner: "Security Office", date: "2026-06-01", version: "2026.1",
		body: `
# Hosting and architecture

The Lattice platform runs on Amazon Web Services in two regions: eu-west-2 (London) for customers in the UK and EU, and us-east-2 (Ohio) for customers in North America. Customer data stays in the region named in the contract. Each region runs in three availability zones; the loss of one zone does not interrupt service.

Tenants share the application tier but are isolated at the data tier: every row carries a tenant identifier enforced by row-level security in PostgreSQL, and object storage uses a separate key prefix and encryption key per tenant.

## Encryption

Data is encrypted at rest with AES-256 using keys held in AWS KMS, rotated every 12 months. Data in transit is protected with TLS 1.2 or 1.3; older protocols are disabled. Backups are encrypted with a separate key and copied to a second region.

# Certifications and testing

Northwind Lattice holds ISO/IEC 27001:2022 certification (certificate NL-ISMS-2291) and completes a SOC 2 Type II audit every year covering security, availability and confidentiality. The latest SOC 2 report covers the period 1 April 2025 to 31 March 2026 and is available to customers under NDA.

Independent penetration tests of the platform and the mobile apps run twice a year. Critical findings are fixed within 72 hours, following our vulnerability management standard. We also run a private bug bounty programme.

# Availability and recovery

| Measure | Target |
|---|---|
| Recovery point objective (RPO) | 15 minutes |
| Recovery time objective (RTO) | 4 hours |
| Backup frequency | Continuous, with daily snapshots kept 35 days |
| Disaster recovery test | Twice a year |

# Access control

Engineers have no standing access to production data. Access is requested through a just-in-time workflow, approved by a second engineer, limited to 4 hours and logged. Support staff can impersonate a customer user only with the customer's consent recorded on the ticket.

All staff complete security awareness training at hiring and every year, and pass background checks before they get access to Restricted data.
`,
	},
	{
		path: "product/sla.docx", kind: "contract", title: "Service Level Agreement",
		author: "Samuel Adeyemi", owner: "Legal and Finance", date: "2026-01-01", version: "2026.1",
		body: `
# Availability commitment

Northwind Lattice commits to a monthly uptime of 99.9% for the Standard plan and 99.95% for the Enterprise plan, measured per module at the API edge. Scheduled maintenance announced at least 5 days in advance, up to 4 hours per month, is excluded.

# Service credits

If monthly uptime falls below the commitment, the customer receives a service credit on the monthly fee of the affected module:

| Monthly uptime | Service credit |
|---|---|
| Below the commitment but at least 99.0% | 10% |
| Below 99.0% but at least 95.0% | 25% |
| Below 95.0% | 50% |

Service credits are the customer's sole remedy for unavailability and are capped at 50% of the monthly fee. Claims must be made within 60 days of the end of the affected month.

# Support response times

| Priority | Definition | Standard plan | Enterprise plan |
|---|---|---|---|
| P1 | Production down or data at risk | 1 hour, 24/7 | 30 minutes, 24/7 |
| P2 | Major function impaired | 4 business hours | 2 hours, 24/7 |
| P3 | Minor issue or workaround available | 1 business day | 8 business hours |
| P4 | Question or feature request | 3 business days | 2 business days |

Business hours are 08:00 to 18:00 in the customer's contracted region, Monday to Friday, excluding public holidays.

# Support channels

Customers open tickets in the help centre, by email to support@northwind-lattice.example, or by phone for P1 issues on +44 20 7946 0500 (UK and EU) and +1 415 555 0142 (North America).
`,
	},
	{
		path: "faq/faq.md", kind: "faq", title: "Frequently Asked Questions",
		author: "Elena Marchetti", owner: "Customer Support", date: "2026-08-31", version: "12",
		body: faqBody,
	},
	{
		path: "faq/faq.html", kind: "faq", title: "Frequently Asked Questions",
		author: "Elena Marchetti", owner: "Customer Support", date: "2026-09-02", version: "12",
		body: faqBody,
	},
	{
		path: "release-notes/v4.2.md", kind: "release-notes", title: "Release Notes: Lattice 4.2",
		author: "Ines Carvalho", owner: "Product", date: "2026-06-16", version: "4.2.0",
		body: `
## Highlights

Lattice 4.2.0 was released on 16 June 2026. It introduces multi-window delivery slots and a new carrier performance report.

## New features

- Multi-window time slots: a stop can now have up to 3 delivery windows per day, for example 08:00-10:00 and 14:00-16:00.
- Carrier performance report in Lattice Yard with on-time arrival rate, average dwell time and detention hours per carrier.
- Bulk cancel of shipments from the shipments list (up to 500 at once).
- The Lattice Driver app shows the recipient's delivery instructions in the stop card.

## Improvements

- Route optimisation for plans above 1,000 stops is about 35% faster.
- CSV imports now report every invalid row with its line number instead of stopping at the first error.

## Fixed issues

- Fixed an issue where ETAs were shown in the depot's time zone instead of the recipient's (ticket LAT-8812).
- Fixed webhook retries stopping after 6 attempts instead of 12 (LAT-8790).
- Fixed a crash of the Android driver app 4.2.0-rc.2 when a route had no stops.

## Deprecations

API v2 will be switched off on 31 March 2027. Migrate to API v3 before then.
`,
	},
	{
		path: "release-notes/v4.3.md", kind: "release-notes", title: "Release Notes: Lattice 4.3",
		author: "Ines Carvalho", owner: "Product", date: "2026-09-08", version: "4.3.0",
		body: `
## Highlights

Lattice 4.3.0 was released on 8 September 2026. Its headline feature is electric vehicle route planning, and it adds SCIM user provisioning for Enterprise tenants.

## New features

- EV routing: Lattice Route now models battery range, charging stops and charger power for electric vans. Plans keep a reserve of at least 15% state of charge at every stop.
- SCIM 2.0 user provisioning with Okta and Microsoft Entra ID (Enterprise plan).
- Proof-of-delivery photos can be blurred automatically to hide faces and house numbers before they are shared with recipients.
- New webhook event route.completed.

## Improvements

- The dispatch console loads 40% faster for depots with more than 300 routes.
- Webhook signing now also covers the X-Lattice-Timestamp header.

## Fixed issues

- Fixed duplicate shipment.delivered events when a driver retried proof of delivery offline (LAT-9024).
- Fixed SSO login loops for users whose email address contained a plus sign (LAT-9107).

## Hotfix 4.3.1

Version 4.3.1, released on 15 September 2026, fixes a regression where re-optimisation ignored vehicle height limits for routes created before the upgrade.
`,
	},
	{
		path: "company/about.html", kind: "company", title: "About Northwind Lattice",
		author: "Morag Fenwick", owner: "Marketing", date: "2026-03-01", version: "1",
		body: `
## Who we are

Northwind Lattice builds software for companies that move goods: parcel carriers, wholesalers, grocery chains and third-party logistics providers. Our platform plans routes, runs dispatch, schedules warehouse docks and connects shippers with carriers.

The company was founded in Edinburgh in 2014 by Morag Fenwick and Arjun Bhatt, who met while optimising delivery rounds for a Scottish dairy cooperative. Today Northwind Lattice employs about 340 people in offices in Edinburgh, London, Rotterdam and Oakland, California.

## Customers

More than 410 companies in 19 countries use the Lattice platform. In 2025 our customers planned 61 million deliveries with it and drove an estimated 12% fewer kilometres than before they switched.

## Offices

| Office | Address |
|---|---|
| Edinburgh (headquarters) | 41 Quayside Row, Leith, Edinburgh EH6 6TJ |
| London | 3rd floor, 88 Clerkenwell Road, London EC1M 5RJ |
| Rotterdam | Wilhelminakade 91, 3072 AP Rotterdam |
| Oakland | 1200 Harbor Way, Suite 400, Oakland, CA 94607 |

## Leadership

Morag Fenwick is Chief Executive Officer. Daniel Kowalczyk leads engineering as VP of Engineering, Tobias Okafor is Chief Information Security Officer, and Priya Raman is Head of People.
`,
	},
	{
		path: "company/glossary.md", kind: "company", title: "Glossary of Logistics Terms",
		author: "Ines Carvalho", owner: "Product", date: "2026-02-09", version: "1.5",
		body: `
## Terms

- **Detention**: a charge a carrier bills when its truck waits at a site longer than the agreed free time, usually 2 hours.
- **Dwell time**: the total time a trailer spends in a yard, from gate check-in to gate check-out.
- **EDI 214**: the ANSI X12 transaction a carrier sends to report the status of a shipment.
- **First-time delivery rate**: the share of deliveries completed at the first attempt. Our customers average 94.1%.
- **Last mile**: the final leg of a delivery, from the local depot to the recipient.
- **Proof of delivery (POD)**: the evidence that a delivery happened: signature, photo and GPS position.
- **Stop**: an address a vehicle visits to deliver or collect one or more orders.
- **Time window**: the period in which a recipient agreed to receive a delivery.
- **Cross-docking**: moving goods from inbound to outbound trucks with little or no storage in between.
- **Backhaul**: a load carried on the return trip so that the vehicle does not drive back empty.
`,
	},
}

const faqBody = `
## Accounts and access

### How do I reset my password?

If your company uses single sign-on, reset the password with your identity provider. Otherwise click "Forgot password" on the sign-in page; the reset link is valid for 30 minutes.

### How do I add a new user?

Tenant administrators add users under Settings > Users > Invite. With SCIM provisioning enabled, users are created automatically from your identity provider.

### Which browsers are supported?

The latest two versions of Chrome, Edge, Firefox and Safari. Internet Explorer is not supported.

## Data and integrations

### Can I export my data?

Yes. Administrators can export shipments, routes and proof-of-delivery records as CSV or JSON at any time from Settings > Data export. Exports of more than 1 million rows are delivered as a download link by email.

### What is the API rate limit?

600 requests per minute per tenant, with bursts of up to 100 requests per second.

### Does the driver app work offline?

Yes. The Lattice Driver app caches the day's routes and stores proof of delivery offline for up to 72 hours, then syncs when the phone is back online.

## Billing

### When are invoices issued?

Invoices are issued on the first working day of each month for the month ahead, payable within 30 days. Invoice questions go to billing@northwind-lattice.example.

### How do I dispute an invoice?

Raise the dispute within 45 days of the invoice date through the help centre, category Billing. Undisputed amounts remain payable.

## Support

### How do I contact support?

Open a ticket in the help centre or email support@northwind-lattice.example. For P1 issues call +44 20 7946 0500 or +1 415 555 0142.
`
