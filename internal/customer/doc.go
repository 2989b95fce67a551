// Package customer is the customer-files capability (SPEC §2.1, §2.8): person and
// organisation customers with their contacts and key persons, validation of Chinese
// identity data, protection of personal data at rest and on screen, duplicate refusal
// on create, scoped lists and a Chinese-aware search.
//
// # Files
//
//	model.go     types, enums, the masked/clear View mapping
//	validate.go  field validation (cnid for mobiles, phones, resident IDs, credit codes)
//	protect.go   encryption (AES-256-GCM, key ring) and blind indexes of personal data
//	store.go     SQL (customers, customer_contacts, duplicate pairs)
//	service.go   create, update, read, reveal; audit and search index in the same transaction
//	list.go      scoped lists and the merged full-text + blind-index search
//	contacts.go  contacts and key persons
//	api.go, web.go, routes.go, templates/   JSON API and pages
//
// The 00004_customers migration also holds the tables of the parts built on top of this
// package: customer_transactions (RFM input), customer_rules (classification rules),
// territories, customer_dup_pairs (duplicate review), customer_merges (reversible
// merges), customer_verifications (re-verification) and customer_imports.
//
// # Personal data
//
// The mobile, phone, resident ID number, street-level address detail, bank account and
// every contact's mobile and phone are stored only encrypted (secure.Keyring.Encrypt
// with the additional data "customer.<field>" / "customer_contact.<field>"), so neither
// the database file nor its WAL ever holds them in clear, and none of them is written
// to the audit log or to the search index. Exact lookups go through HMAC blind indexes:
// every phone number (customers' and contacts', mobile or landline, without extension)
// under one purpose "customer.phone", its last four digits under
// "customer.phone.last4", the ID number under "customer.id_number" and the whole
// normalized address under "customer.address" (duplicate detection only). A last-4
// blind index has only 10,000 possible values, so anyone holding the blind key could
// enumerate it: it narrows a lookup and identifies nobody by itself, which is
// acceptable because the same four digits are shown in every masked number anyway.
//
// Responses and pages are masked by default (secure.Mask*: 138****1234,
// 110***********1234, address down to the district). Reveal returns clear values to a
// holder of customer:reveal whose scope reaches the record and audits who, whose, which
// fields and why ("customer.reveal"). Every read of a file ("customer.read") and every
// list request ("customer.list", with the ids returned) is audited as well.
//
// # Search
//
// The text index (platform/search, one document per customer, maintained in the
// write's transaction) holds only data that is not encrypted at rest: name, email,
// credit code, province/city/district, region, industry, service region, tags,
// qualifications, notes, and the contacts' names, titles and emails. The street-level
// address detail is NOT indexed, neither in clear (it is encrypted at rest) nor as
// hashed terms: hashed bigrams of a short address would be deterministic tokens open to
// frequency analysis over a small vocabulary, which undoes the encryption. Address
// search is therefore offered down to the district; an exact whole address is matched
// by its blind index for duplicate detection. A query that is a whole phone number, 4
// digits or an ID number also hits the blind indexes; the list merges both kinds of
// hits newest first (see list.go).
//
// # Scope
//
// A customer's scope fields are its owner (owner_id) and the owner's department and
// team at the time the owner was set. customer:* permissions follow the role's scope:
// all, dept (dept_id), team (team_id, or owned), own (owner_id). An out-of-scope id
// reads as 404; lists are filtered in SQL.
package customer
