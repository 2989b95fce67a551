package customer

import (
	"embed"
	"io/fs"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates returns the customer pages for the web engine ("customer/<file>").
func Templates() fs.FS {
	return web.MustSub(templateFS, "templates")
}

// Routes is every customer route with the permission it needs. The service checks the
// same permissions again, plus the record's scope (out of scope reads as 404).
func (s *Service) Routes() []httpx.Route {
	a, p := api{s: s}, pages{s: s}
	const get, post, patch, del = "GET", "POST", "PATCH", "DELETE"
	return []httpx.Route{
		// JSON API
		{Method: get, Path: "/api/v1/customers", Perm: PermRead, Handler: a.list},
		// Caller lookup by a whole phone number, across scopes, masked and audited (lookup.go)
		{Method: get, Path: "/api/v1/customers/lookup", Perm: PermRead, Handler: a.lookupCaller},
		{Method: post, Path: "/api/v1/customers", Perm: PermWrite, Handler: a.create},
		{Method: get, Path: "/api/v1/customers/{id}", Perm: PermRead, Handler: a.get},
		{Method: patch, Path: "/api/v1/customers/{id}", Perm: PermWrite, Handler: a.update},
		{Method: post, Path: "/api/v1/customers/{id}/reveal", Perm: PermReveal, Handler: a.reveal},
		{Method: get, Path: "/api/v1/customers/{id}/contacts", Perm: PermRead, Handler: a.listContacts},
		{Method: post, Path: "/api/v1/customers/{id}/contacts", Perm: PermWrite, Handler: a.createContact},
		{Method: patch, Path: "/api/v1/customers/{id}/contacts/{cid}", Perm: PermWrite, Handler: a.updateContact},
		{Method: del, Path: "/api/v1/customers/{id}/contacts/{cid}", Perm: PermWrite, Handler: a.deleteContact},
		// Classification: transactions and rules (transactions.go, classification.go)
		{Method: get, Path: "/api/v1/customers/{id}/transactions", Perm: PermRead, Handler: a.listTransactions},
		{Method: post, Path: "/api/v1/customers/{id}/transactions", Perm: PermWrite, Handler: a.createTransaction},
		{Method: del, Path: "/api/v1/customers/{id}/transactions/{tid}", Perm: PermWrite, Handler: a.deleteTransaction},
		{Method: get, Path: "/api/v1/customer-rules", Perm: PermRead, Handler: a.getRules},
		{Method: "PUT", Path: "/api/v1/customer-rules", Perm: PermRules, Handler: a.putRules},
		{Method: patch, Path: "/api/v1/customer-rules", Perm: PermRules, Handler: a.patchRules},
		// Territories (territory.go) and re-verification (reverify.go)
		{Method: get, Path: "/api/v1/territories", Perm: PermRead, Handler: a.listTerritories},
		{Method: post, Path: "/api/v1/territories", Perm: PermTerritory, Handler: a.createTerritory},
		{Method: get, Path: "/api/v1/territories/{id}", Perm: PermRead, Handler: a.getTerritory},
		{Method: patch, Path: "/api/v1/territories/{id}", Perm: PermTerritory, Handler: a.updateTerritory},
		{Method: del, Path: "/api/v1/territories/{id}", Perm: PermTerritory, Handler: a.deleteTerritory},
		{Method: post, Path: "/api/v1/territories/{id}/reassign", Perm: PermTerritory, Handler: a.reassignTerritory},
		{Method: get, Path: "/api/v1/customers/reverify-queue", Perm: PermWrite, Handler: a.reverifyQueue},
		{Method: post, Path: "/api/v1/customers/{id}/verify", Perm: PermWrite, Handler: a.verify},
		{Method: get, Path: "/api/v1/customers/{id}/verifications", Perm: PermRead, Handler: a.verifications},
		{Method: get, Path: "/api/v1/customer-settings", Perm: PermRead, Handler: a.getSettings},
		{Method: "PUT", Path: "/api/v1/customer-settings", Perm: PermRules, Handler: a.putSettings},
		// Duplicate review and merges (duplicates.go, merge.go)
		{Method: get, Path: "/api/v1/customers/duplicates", Perm: PermMerge, Handler: a.listDuplicates},
		{Method: post, Path: "/api/v1/customers/duplicates/scan", Perm: PermMerge, Handler: a.scanDuplicates},
		{Method: post, Path: "/api/v1/customers/duplicates/{id}/dismiss", Perm: PermMerge, Handler: a.dismissDuplicate},
		{Method: post, Path: "/api/v1/customers/{id}/merge", Perm: PermMerge, Handler: a.merge},
		{Method: get, Path: "/api/v1/customers/merges", Perm: PermMerge, Handler: a.listMerges},
		{Method: post, Path: "/api/v1/customers/merges/{id}/undo", Perm: PermMerge, Handler: a.undoMerge},
		// Import and export (importexport.go); uploads may be up to MaxImportBytes
		{Method: post, Path: "/api/v1/customers/import", Perm: PermImport, MaxBody: MaxImportBytes, Handler: a.importCustomers},
		{Method: get, Path: "/api/v1/customers/import/template", Perm: PermImport, Handler: a.importTemplate},
		{Method: get, Path: "/api/v1/customers/import/{id}/report", Perm: PermImport, Handler: a.importReport},
		{Method: get, Path: "/api/v1/customers/export", Perm: PermExport, Handler: a.exportCustomers},

		// Pages (forms post back and redirect: POST-redirect-GET)
		{Method: get, Path: "/customers", Perm: PermRead, Page: true, Handler: p.list},
		{Method: get, Path: "/customers/new", Perm: PermWrite, Page: true, Handler: p.newForm},
		{Method: post, Path: "/customers", Perm: PermWrite, Page: true, Handler: p.create},
		{Method: get, Path: "/customers/{id}", Perm: PermRead, Page: true, Handler: p.view},
		{Method: get, Path: "/customers/{id}/edit", Perm: PermWrite, Page: true, Handler: p.editForm},
		{Method: post, Path: "/customers/{id}", Perm: PermWrite, Page: true, Handler: p.update},
		{Method: post, Path: "/customers/{id}/reveal", Perm: PermReveal, Page: true, Handler: p.reveal},
		{Method: post, Path: "/customers/{id}/contacts", Perm: PermWrite, Page: true, Handler: p.addContact},
		{Method: post, Path: "/customers/{id}/contacts/{cid}/delete", Perm: PermWrite, Page: true, Handler: p.deleteContact},
		{Method: post, Path: "/customers/{id}/transactions", Perm: PermWrite, Page: true, Handler: p.addTransaction},
		{Method: post, Path: "/customers/{id}/transactions/{tid}/delete", Perm: PermWrite, Page: true, Handler: p.deleteTransaction},
		{Method: get, Path: "/customers/rules", Perm: PermRules, Page: true, Handler: p.rulesPage},
		{Method: post, Path: "/customers/rules", Perm: PermRules, Page: true, Handler: p.saveRules},
		{Method: get, Path: "/territories", Perm: PermRead, Page: true, Handler: p.territories},
		{Method: get, Path: "/territories/new", Perm: PermTerritory, Page: true, Handler: p.newTerritory},
		{Method: post, Path: "/territories", Perm: PermTerritory, Page: true, Handler: p.createTerritory},
		{Method: get, Path: "/territories/{id}/edit", Perm: PermTerritory, Page: true, Handler: p.editTerritory},
		{Method: post, Path: "/territories/{id}", Perm: PermTerritory, Page: true, Handler: p.updateTerritory},
		{Method: post, Path: "/territories/{id}/delete", Perm: PermTerritory, Page: true, Handler: p.deleteTerritory},
		{Method: post, Path: "/territories/{id}/reassign", Perm: PermTerritory, Page: true, Handler: p.reassignTerritory},
		{Method: get, Path: "/customers/reverify", Perm: PermWrite, Page: true, Handler: p.reverify},
		{Method: post, Path: "/customers/reverify/settings", Perm: PermRules, Page: true, Handler: p.reverifySettings},
		{Method: post, Path: "/customers/{id}/verify", Perm: PermWrite, Page: true, Handler: p.verify},
		{Method: get, Path: "/customers/duplicates", Perm: PermMerge, Page: true, Handler: p.duplicates},
		{Method: post, Path: "/customers/duplicates/scan", Perm: PermMerge, Page: true, Handler: p.scanDuplicates},
		{Method: post, Path: "/customers/duplicates/{id}/dismiss", Perm: PermMerge, Page: true, Handler: p.dismissDuplicate},
		{Method: post, Path: "/customers/duplicates/{id}/merge", Perm: PermMerge, Page: true, Handler: p.mergePair},
		{Method: get, Path: "/customers/merges", Perm: PermMerge, Page: true, Handler: p.merges},
		{Method: post, Path: "/customers/merges/{id}/undo", Perm: PermMerge, Page: true, Handler: p.undoMerge},
		{Method: get, Path: "/customers/import", Perm: PermImport, Page: true, Handler: p.importForm},
		{Method: post, Path: "/customers/import", Perm: PermImport, Page: true, MaxBody: MaxImportBytes, Handler: p.importUpload},
	}
}
