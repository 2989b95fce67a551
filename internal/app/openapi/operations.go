package openapi

import (
	"encoding/json"
	"strings"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/customer/classify"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// Op documents one route of /api/v1. The route's method, path and permission come
// from the router (Router.Routes); everything else is here, in one table.
type Op struct {
	Method, Path string
	Tag          string
	Summary      string
	// Query lists the query parameters (list endpoints: limit and cursor included).
	Query []Param
	// Body is a value of the type the handler decodes the JSON body into (nil: no
	// JSON body); BodyMedia names another media type the body is sent as instead.
	Body      any
	BodyMedia string
	// OptionalBody: the request may come without a body.
	OptionalBody bool
	// Resp is a value of the type the handler writes (nil: no body, or RespMedia).
	Resp      any
	RespMedia string
	// Status is the success status (200 when 0).
	Status int
	// StringID marks path parameters that are not numeric ids (calendar ids).
	StringID bool
	Example  Example
	// More are further examples (variants the docs show); the contract test sends
	// them too, after Example.
	More []Example
}

// Param is a query parameter.
type Param struct {
	Name        string `json:"name"`
	Type        string `json:"type"` // integer, string, boolean
	Description string `json:"description"`
	Required    bool   `json:"required,omitempty"`
}

// Example is one complete request. Path (with its query string) and Body may hold
// placeholders: {name} in the path and "{name}" (a quoted JSON string) in the body stand
// for an id or version the reader substitutes (the contract test fills them from the
// fixtures it created).
type Example struct {
	Path string `json:"path"`
	// Body is the JSON body (or, with File, nothing).
	Body string `json:"body,omitempty"`
	// ContentType is the body's media type when it is not JSON.
	ContentType string `json:"content_type,omitempty"`
	// Raw is a non-JSON body sent as is (a CSV file).
	Raw string `json:"raw,omitempty"`
	// File is a multipart/form-data upload: the "file" part's name and content.
	File *ExampleFile `json:"file,omitempty"`
	// Yields names the placeholder that the answer's "id" fills for later examples.
	Yields string `json:"yields,omitempty"`
}

// ExampleFile is the file of a multipart example.
type ExampleFile struct {
	Field   string `json:"field"`
	Name    string `json:"name"`
	Content string `json:"content"`
}

func (o Op) key() string { return o.Method + " " + o.Path }

// Query parameters shared by list endpoints.
var (
	pLimit  = Param{Name: "limit", Type: "integer", Description: "Page size, 1 to 500 (default 50)."}
	pCursor = Param{Name: "cursor", Type: "string", Description: "The next_cursor of the previous page."}
	pQ      = Param{Name: "q", Type: "string", Description: "Full-text search (Chinese words and Latin words)."}
)

// customerFilters are the filters of the customer list (and export).
var customerFilters = []Param{pQ, str("kind", "person or org."), str("status", "Status."), str("tier", "Tier."),
	str("value_class", "Value class."), str("credit_grade", "Credit grade."), str("province", "Province."),
	str("city", "City."), str("district", "District."), str("industry", "Industry."), str("tag", "Tag."),
	num("owner_id", "Owner staff id."), num("dept_id", "Department id."), num("team_id", "Team id."),
	num("territory_id", "Territory id."), str("verified_before", "YYYY-MM-DD: last verified before this day.")}

func list(extra ...Param) []Param { return append([]Param{pLimit, pCursor}, extra...) }

func str(name, desc string) Param { return Param{Name: name, Type: "string", Description: desc} }
func num(name, desc string) Param { return Param{Name: name, Type: "integer", Description: desc} }
func flag(name, desc string) Param {
	return Param{Name: name, Type: "boolean", Description: desc}
}

// Media types of files.
const (
	mediaCSV       = "text/csv"
	mediaXLSX      = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mediaMultipart = "multipart/form-data"
	mediaAny       = "application/octet-stream"
	// mediaTable is a spreadsheet, .xlsx or .csv as the format parameter says.
	mediaTable = "table"
)

// Operations is the table of every documented operation, in the order the contract
// test runs their examples: fixtures are created first (their answers fill the
// placeholders), deletions come last. The complaint operations (operations_complaint.go)
// come after the service requests.
func Operations() []Op {
	// Each capability's examples follow those they build on: complaints, then activities
	// and cooperation records, field visits, return-visit rules and tasks, the visit work
	// and its report, surveys; all before the operation that serves this document (and
	// the deletions after it).
	return insertBefore(baseOperations(), "GET /api/v1/openapi.json", complaintOperations(), activityOperations(),
		fieldVisitOperations(), revisitOperations(), revisitWorkOperations(), revisitReportOperations(), surveyOperations())
}

// insertBefore returns ops with the groups inserted, in order, before the operation
// whose key is key (at the end when there is none).
func insertBefore(ops []Op, key string, groups ...[]Op) []Op {
	at := len(ops)
	for i, o := range ops {
		if o.key() == key {
			at = i
			break
		}
	}
	out := append([]Op{}, ops[:at]...)
	for _, g := range groups {
		out = append(out, g...)
	}
	return append(out, ops[at:]...)
}

func baseOperations() []Op {
	rules := classify.DefaultRules()
	rulesJSON, _ := json.Marshal(rules)
	tierJSON, _ := json.Marshal(rules.Tier)
	return []Op{
		// ---- identity and organisation ----
		{Method: "GET", Path: "/api/v1/me", Tag: "staff", Summary: "The signed-in staff member, roles, permissions and their scopes.",
			Resp: meResponse{}, Example: Example{Path: "/api/v1/me"}},
		{Method: "POST", Path: "/api/v1/departments", Tag: "organisation", Summary: "Create a department.",
			Body: org.DepartmentInput{}, Resp: org.Department{}, Status: 201,
			Example: Example{Path: "/api/v1/departments", Body: `{"code": "aftersales", "name": "After-sales service"}`, Yields: "dept_id"}},
		{Method: "GET", Path: "/api/v1/departments", Tag: "organisation", Summary: "List departments.",
			Query: list(), Resp: httpx.Page[org.Department]{}, Example: Example{Path: "/api/v1/departments?limit=20"}},
		{Method: "GET", Path: "/api/v1/departments/{id}", Tag: "organisation", Summary: "Read a department.",
			Resp: org.Department{}, Example: Example{Path: "/api/v1/departments/{dept_id}"}},
		{Method: "PATCH", Path: "/api/v1/departments/{id}", Tag: "organisation", Summary: "Change a department (members not sent stay as they are).",
			Body: org.DepartmentPatch{}, Resp: org.Department{},
			Example: Example{Path: "/api/v1/departments/{dept_id}", Body: `{"name": "After-sales", "version": "{dept_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/teams", Tag: "organisation", Summary: "Create a team in a department.",
			Body: org.TeamInput{}, Resp: org.Team{}, Status: 201,
			Example: Example{Path: "/api/v1/teams", Body: `{"dept_id": "{dept_id}", "name": "Hotline"}`, Yields: "team_id"}},
		{Method: "GET", Path: "/api/v1/teams", Tag: "organisation", Summary: "List teams.",
			Query: list(num("dept_id", "Only the teams of this department.")), Resp: httpx.Page[org.Team]{},
			Example: Example{Path: "/api/v1/teams?dept_id={dept_id}"}},
		{Method: "GET", Path: "/api/v1/teams/{id}", Tag: "organisation", Summary: "Read a team.",
			Resp: org.Team{}, Example: Example{Path: "/api/v1/teams/{team_id}"}},
		{Method: "PATCH", Path: "/api/v1/teams/{id}", Tag: "organisation", Summary: "Change a team.",
			Body: org.TeamPatch{}, Resp: org.Team{},
			Example: Example{Path: "/api/v1/teams/{team_id}", Body: `{"name": "Hotline A", "version": "{team_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/roles", Tag: "organisation", Summary: "Create a custom role (only permissions the actor holds).",
			Body: org.RoleInput{}, Resp: roleView{}, Status: 201,
			Example: Example{Path: "/api/v1/roles", Body: `{"code": "kb_editor", "name": "KB editor", "description": "Writes FAQ articles", "scope": "all", "permissions": ["kb:read", "kb:write"]}`, Yields: "role_id"}},
		{Method: "GET", Path: "/api/v1/roles", Tag: "organisation", Summary: "List roles.",
			Query: list(), Resp: httpx.Page[roleView]{}, Example: Example{Path: "/api/v1/roles"}},
		{Method: "GET", Path: "/api/v1/roles/{id}", Tag: "organisation", Summary: "Read a role.",
			Resp: roleView{}, Example: Example{Path: "/api/v1/roles/{role_id}"}},
		{Method: "PATCH", Path: "/api/v1/roles/{id}", Tag: "organisation", Summary: "Change a role (never beyond the actor's own permissions and scope).",
			Body: org.RolePatch{}, Resp: roleView{},
			Example: Example{Path: "/api/v1/roles/{role_id}", Body: `{"description": "Writes and publishes FAQ articles", "version": "{role_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/staff", Tag: "staff", Summary: "Create a staff member (optionally with an initial password).",
			Body: createStaffRequest{}, Resp: org.Staff{}, Status: 201,
			Example: Example{Path: "/api/v1/staff", Body: `{"username": "wang.fang", "display_name": "Wang Fang", "email": "wang.fang@example.com", "dept_id": "{dept_id}", "team_id": "{team_id}", "roles": ["agent"], "password": "Initial-Passw0rd!"}`, Yields: "staff_id"}},
		{Method: "GET", Path: "/api/v1/staff", Tag: "staff", Summary: "List staff.",
			Query: list(pQ, str("role", "Role code."), str("status", "active or disabled."), num("dept_id", "Department id."), num("team_id", "Team id.")),
			Resp:  httpx.Page[org.Staff]{}, Example: Example{Path: "/api/v1/staff?role=agent&status=active"}},
		{Method: "GET", Path: "/api/v1/staff/{id}", Tag: "staff", Summary: "Read a staff member.",
			Resp: org.Staff{}, Example: Example{Path: "/api/v1/staff/{staff_id}"}},
		{Method: "PATCH", Path: "/api/v1/staff/{id}", Tag: "staff", Summary: "Change a staff member (only one whose every permission the actor holds).",
			Body: org.StaffPatch{}, Resp: org.Staff{},
			Example: Example{Path: "/api/v1/staff/{staff_id}", Body: `{"display_name": "Wang Fang (field service)", "skills": ["technician", "fault:3"], "version": "{staff_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/staff/{id}/unlock", Tag: "staff", Summary: "Unlock a staff member locked out by failed sign-ins.",
			Resp: unlocked{}, Example: Example{Path: "/api/v1/staff/{staff_id}/unlock"}},
		{Method: "POST", Path: "/api/v1/tokens", Tag: "tokens", Summary: "Create an API token for oneself; the token is shown once.",
			Body: tokenRequest{}, Resp: createdToken{}, Status: 201,
			Example: Example{Path: "/api/v1/tokens", Body: `{"name": "CRM sync"}`, Yields: "token_id"}},
		{Method: "GET", Path: "/api/v1/tokens", Tag: "tokens", Summary: "List API tokens (others' need token:manage).",
			Query: list(num("staff_id", "Whose tokens (default: one's own).")), Resp: httpx.Page[auth.Token]{},
			Example: Example{Path: "/api/v1/tokens"}},
		{Method: "GET", Path: "/api/v1/tokens/{id}", Tag: "tokens", Summary: "Read an API token (never its secret).",
			Resp: auth.Token{}, Example: Example{Path: "/api/v1/tokens/{token_id}"}},
		{Method: "GET", Path: "/api/v1/audit", Tag: "audit", Summary: "Read the audit log, newest first.",
			Query: list(num("actor", "Actor id."), str("action", "Action, e.g. customer.create."), str("target_type", "Target type."),
				str("target_id", "Target id."), str("from", "RFC 3339 time, inclusive."), str("to", "RFC 3339 time, exclusive.")),
			Resp: httpx.Page[audit.Item]{}, Example: Example{Path: "/api/v1/audit?action=staff.create&limit=10"}},

		// ---- customers ----
		{Method: "POST", Path: "/api/v1/customers", Tag: "customers", Summary: "Create a customer file.",
			Body: customer.Input{}, Resp: customer.View{}, Status: 201,
			Example: Example{Path: "/api/v1/customers", Body: `{"kind": "org", "name": "Example Trading Co., Ltd.", "mobile": "13800138000", "email": "buyer@example.com", "province": "Guangdong", "city": "Shenzhen", "industry": "retail", "tags": ["key-account"]}`, Yields: "customer_id"}},
		{Method: "GET", Path: "/api/v1/customers", Tag: "customers", Summary: "List and search customers in the actor's scope.",
			Query: list(customerFilters...),
			Resp:  httpx.Page[customer.View]{}, Example: Example{Path: "/api/v1/customers?q=Example&kind=org&limit=20"}},
		{Method: "GET", Path: "/api/v1/customers/lookup", Tag: "customers", Summary: "Find the caller of a phone call by number (masked, audited).",
			Query: []Param{{Name: "phone", Type: "string", Description: "The caller's mobile or phone number.", Required: true}},
			Resp:  customer.CallerLookup{}, Example: Example{Path: "/api/v1/customers/lookup?phone=13800138000"}},
		{Method: "GET", Path: "/api/v1/customers/{id}", Tag: "customers", Summary: "Read a customer file (masked personal data).",
			Resp: customer.View{}, Example: Example{Path: "/api/v1/customers/{customer_id}"}},
		{Method: "PATCH", Path: "/api/v1/customers/{id}", Tag: "customers", Summary: "Change a customer file.",
			Body: customer.Patch{}, Resp: customer.View{},
			Example: Example{Path: "/api/v1/customers/{customer_id}", Body: `{"city": "Guangzhou", "version": "{customer_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/customers/{id}/reveal", Tag: "customers", Summary: "Reveal masked fields, with a reason (audited).",
			Body: revealRequest{}, Resp: customer.Revealed{},
			Example: Example{Path: "/api/v1/customers/{customer_id}/reveal", Body: `{"fields": ["mobile"], "reason": "Call back about the delivery"}`}},
		{Method: "POST", Path: "/api/v1/customers/{id}/contacts", Tag: "customers", Summary: "Add a contact person.",
			Body: customer.ContactInput{}, Resp: customer.ContactView{}, Status: 201,
			Example: Example{Path: "/api/v1/customers/{customer_id}/contacts", Body: `{"name": "Li Lei", "title": "Purchasing manager", "is_key_person": true, "mobile": "13900139000"}`, Yields: "contact_id"}},
		{Method: "GET", Path: "/api/v1/customers/{id}/contacts", Tag: "customers", Summary: "List a customer's contact persons.",
			Resp: httpx.Page[customer.ContactView]{}, Example: Example{Path: "/api/v1/customers/{customer_id}/contacts"}},
		{Method: "PATCH", Path: "/api/v1/customers/{id}/contacts/{cid}", Tag: "customers", Summary: "Change a contact person.",
			Body: customer.ContactPatch{}, Resp: customer.ContactView{},
			Example: Example{Path: "/api/v1/customers/{customer_id}/contacts/{contact_id}", Body: `{"title": "Head of purchasing", "version": "{contact_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/customers/{id}/transactions", Tag: "customers", Summary: "Record a transaction (feeds the classification).",
			Body: customer.TransactionInput{}, Resp: customer.Transaction{}, Status: 201,
			Example: Example{Path: "/api/v1/customers/{customer_id}/transactions", Body: `{"date": "2026-03-02", "amount_fen": 1280000, "ref": "SO-2026-0042", "note": "Spring order"}`, Yields: "transaction_id"}},
		{Method: "GET", Path: "/api/v1/customers/{id}/transactions", Tag: "customers", Summary: "List a customer's transactions.",
			Query: list(), Resp: httpx.Page[customer.Transaction]{}, Example: Example{Path: "/api/v1/customers/{customer_id}/transactions"}},
		{Method: "GET", Path: "/api/v1/customer-rules", Tag: "customer settings", Summary: "Read the classification rules (tier, value, credit).",
			Resp: customer.RulesView{}, Example: Example{Path: "/api/v1/customer-rules"}},
		{Method: "PATCH", Path: "/api/v1/customer-rules", Tag: "customer settings", Summary: "Change some classification rules (top-level members replace the stored ones).",
			Body: map[string]json.RawMessage{}, Resp: customer.RulesView{},
			Example: Example{Path: "/api/v1/customer-rules", Body: `{"tier": ` + string(tierJSON) + `, "version": "{customer_rules_version}"}`}},
		{Method: "PUT", Path: "/api/v1/customer-rules", Tag: "customer settings", Summary: "Replace the classification rules.",
			Body: classify.Rules{}, Resp: customer.RulesView{},
			Example: Example{Path: "/api/v1/customer-rules", Body: strings.TrimSuffix(string(rulesJSON), "}") + `, "version": "{customer_rules_version}"}`}},
		{Method: "GET", Path: "/api/v1/customer-settings", Tag: "customer settings", Summary: "Read the customer settings (re-verification period).",
			Resp: customer.CustomerSettings{}, Example: Example{Path: "/api/v1/customer-settings"}},
		{Method: "PUT", Path: "/api/v1/customer-settings", Tag: "customer settings", Summary: "Change the customer settings.",
			Body: customer.CustomerSettingsPatch{}, Resp: customer.CustomerSettings{},
			Example: Example{Path: "/api/v1/customer-settings", Body: `{"reverify_days": 180}`}},
		{Method: "GET", Path: "/api/v1/customers/reverify-queue", Tag: "customers", Summary: "Customers due for re-verification.",
			Query: list(), Resp: reverifyQueue{}, Example: Example{Path: "/api/v1/customers/reverify-queue"}},
		{Method: "POST", Path: "/api/v1/customers/{id}/verify", Tag: "customers", Summary: "Record that a customer's data was verified.",
			Body: verifyRequest{}, OptionalBody: true, Resp: customer.VerificationView{},
			Example: Example{Path: "/api/v1/customers/{customer_id}/verify", Body: `{"note": "Confirmed by phone"}`}},
		{Method: "GET", Path: "/api/v1/customers/{id}/verifications", Tag: "customers", Summary: "A customer's verification history.",
			Resp: httpx.Page[customer.VerificationView]{}, Example: Example{Path: "/api/v1/customers/{customer_id}/verifications"}},
		{Method: "POST", Path: "/api/v1/territories", Tag: "territories", Summary: "Create a sales territory (customers are reassigned).",
			Body: customer.TerritoryInput{}, Resp: customer.TerritoryView{}, Status: 201,
			Example: Example{Path: "/api/v1/territories", Body: `{"kind": "region", "code": "south", "name": "South China", "province": "Guangdong", "responsible_id": "{staff_id}", "match_rules": [{"province": "Guangdong"}]}`, Yields: "territory_id"}},
		{Method: "GET", Path: "/api/v1/territories", Tag: "territories", Summary: "List territories.",
			Query: list(), Resp: httpx.Page[customer.TerritoryView]{}, Example: Example{Path: "/api/v1/territories"}},
		{Method: "GET", Path: "/api/v1/territories/{id}", Tag: "territories", Summary: "Read a territory with its customer count.",
			Resp: customer.TerritoryView{}, Example: Example{Path: "/api/v1/territories/{territory_id}"}},
		{Method: "PATCH", Path: "/api/v1/territories/{id}", Tag: "territories", Summary: "Change a territory.",
			Body: customer.TerritoryPatch{}, Resp: customer.TerritoryView{},
			Example: Example{Path: "/api/v1/territories/{territory_id}", Body: `{"name": "South China region", "version": "{territory_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/territories/{id}/reassign", Tag: "territories", Summary: "Re-run territory assignment for every customer.",
			Resp: customer.TerritoryReassign{}, Example: Example{Path: "/api/v1/territories/{territory_id}/reassign"}},
		{Method: "POST", Path: "/api/v1/customers/import", Tag: "customer files", Summary: "Import customers from .xlsx or .csv (all rows or none); the body is the file, or a multipart form with the part \"file\".",
			Query:     []Param{str("filename", "The file's name (its extension gives the format) when the body is the file."), flag("dry_run", "Validate only.")},
			BodyMedia: mediaCSV, Resp: importResult{},
			Example: Example{Path: "/api/v1/customers/import?filename=customers.csv", ContentType: mediaCSV,
				Raw: "Type,Name,Mobile\nOrganisation,Sample Imports Ltd.,13700137000\nPerson,Zhang Wei,13600136000\n", Yields: "import_id"}},
		{Method: "GET", Path: "/api/v1/customers/import/template", Tag: "customer files", Summary: "Download an import template.",
			Query: []Param{str("format", "xlsx (default) or csv.")}, RespMedia: mediaTable,
			Example: Example{Path: "/api/v1/customers/import/template?format=xlsx"}},
		{Method: "GET", Path: "/api/v1/customers/import/{id}/report", Tag: "customer files", Summary: "Download the problems of an import as .xlsx.",
			RespMedia: mediaXLSX, Example: Example{Path: "/api/v1/customers/import/{import_id}/report"}},
		{Method: "GET", Path: "/api/v1/customers/export", Tag: "customer files", Summary: "Export the customers matching the list filters.",
			Query:     append([]Param{str("format", "xlsx (default) or csv."), flag("masked", "Mask personal data (default true).")}, customerFilters...),
			RespMedia: mediaTable, Example: Example{Path: "/api/v1/customers/export?format=csv&kind=org"}},
		{Method: "POST", Path: "/api/v1/customers/duplicates/scan", Tag: "duplicates", Summary: "Look for likely duplicate customers now.",
			Resp: customer.ScanResult{}, Example: Example{Path: "/api/v1/customers/duplicates/scan"}},
		{Method: "GET", Path: "/api/v1/customers/duplicates", Tag: "duplicates", Summary: "List likely duplicate pairs.",
			Query: list(), Resp: httpx.Page[customer.DupPairView]{}, Example: Example{Path: "/api/v1/customers/duplicates"}},
		{Method: "POST", Path: "/api/v1/customers/{id}/merge", Tag: "duplicates", Summary: "Merge another customer into this one (undoable).",
			Body: mergeRequest{}, Resp: mergeResponse{},
			Example: Example{Path: "/api/v1/customers/{customer_id}/merge", Body: `{"from": "{duplicate_customer_id}", "reason": "Same company registered twice"}`, Yields: "merge_id"}},
		{Method: "GET", Path: "/api/v1/customers/merges", Tag: "duplicates", Summary: "List merges.",
			Query: list(), Resp: httpx.Page[customer.MergeInfo]{}, Example: Example{Path: "/api/v1/customers/merges"}},
		{Method: "POST", Path: "/api/v1/customers/merges/{id}/undo", Tag: "duplicates", Summary: "Undo a merge.",
			Resp: customer.MergeInfo{}, Example: Example{Path: "/api/v1/customers/merges/{merge_id}/undo"}},
		{Method: "POST", Path: "/api/v1/customers/duplicates/{id}/dismiss", Tag: "duplicates", Summary: "Dismiss a pair as not duplicates.",
			Status: 204, Example: Example{Path: "/api/v1/customers/duplicates/{duplicate_pair_id}/dismiss"}},

		// ---- settings and calendars ----
		{Method: "GET", Path: "/api/v1/settings/mail", Tag: "settings", Summary: "Read the outgoing mail settings (never the password).",
			Resp: mail.View{}, Example: Example{Path: "/api/v1/settings/mail"}},
		{Method: "PUT", Path: "/api/v1/settings/mail", Tag: "settings", Summary: "Change the outgoing mail settings.",
			Body: mail.Input{}, Resp: mail.View{},
			Example: Example{Path: "/api/v1/settings/mail", Body: `{"host": "{smtp_host}", "port": "{smtp_port}", "username": "", "from": "service@example.com", "from_name": "Customer service", "security": "none", "enabled": true}`}},
		{Method: "POST", Path: "/api/v1/settings/mail/test", Tag: "settings", Summary: "Send a test mail.",
			Body: mail.TestRequest{}, Resp: mailTestResult{},
			Example: Example{Path: "/api/v1/settings/mail/test", Body: `{"to": "admin@example.com"}`}},
		{Method: "GET", Path: "/api/v1/settings/tickets", Tag: "settings", Summary: "Read the service-request settings.",
			Resp: ticket.TicketSettings{}, Example: Example{Path: "/api/v1/settings/tickets"}},
		{Method: "PUT", Path: "/api/v1/settings/tickets", Tag: "settings", Summary: "Change the service-request settings.",
			Body: ticket.TicketSettingsPatch{}, Resp: ticket.TicketSettings{},
			Example: Example{Path: "/api/v1/settings/tickets", Body: `{"autoclose_after": "72h"}`}},
		{Method: "GET", Path: "/api/v1/calendars", Tag: "calendars", Summary: "List business calendars.",
			Resp: itemsOf[calendar.Def]{}, Example: Example{Path: "/api/v1/calendars"}},
		{Method: "PUT", Path: "/api/v1/calendars/{id}", Tag: "calendars", Summary: "Create or replace a business calendar (201 when created).",
			StringID: true, Body: calendar.DefInput{}, Resp: calendar.Def{},
			Example: Example{Path: "/api/v1/calendars/shenzhen", Body: `{"name": "Shenzhen office", "time_zone": "Asia/Shanghai", "hours": {"mon": "09:00-12:00,13:30-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "", "sun": ""}}`}},
		{Method: "GET", Path: "/api/v1/calendars/{id}", Tag: "calendars", Summary: "Read a business calendar.",
			StringID: true, Resp: calendar.Def{}, Example: Example{Path: "/api/v1/calendars/default"}},
		{Method: "GET", Path: "/api/v1/calendars/{id}/due", Tag: "calendars", Summary: "Preview a due time on a calendar.",
			StringID: true, Query: []Param{{Name: "from", Type: "string", Description: "Start, RFC 3339.", Required: true},
				{Name: "duration", Type: "string", Description: "Like 4h, 30m or 3d.", Required: true},
				str("mode", "calendar, business_hours or working_days.")},
			Resp: dueResponse{}, Example: Example{Path: "/api/v1/calendars/default/due?from=2026-02-13T17:00:00%2B08:00&duration=4h&mode=business_hours"}},
		{Method: "GET", Path: "/api/v1/holiday-years", Tag: "calendars", Summary: "List the holiday years (public holidays and make-up working days).",
			Resp: itemsOf[calendar.YearView]{}, Example: Example{Path: "/api/v1/holiday-years"}},
		{Method: "GET", Path: "/api/v1/holiday-years/{year}", Tag: "calendars", Summary: "Read one holiday year.",
			Resp: calendar.YearView{}, Example: Example{Path: "/api/v1/holiday-years/2026"}},
		{Method: "PUT", Path: "/api/v1/holiday-years/{year}", Tag: "calendars", Summary: "Replace one holiday year.",
			Body: calendar.YearInput{}, Resp: calendar.YearView{},
			Example: Example{Path: "/api/v1/holiday-years/2027", Body: `{"year": 2027, "holidays": [{"name": "New Year", "start": "2027-01-01", "end": "2027-01-03"}], "workdays": []}`}},
		{Method: "POST", Path: "/api/v1/holiday-years/import", Tag: "calendars", Summary: "Import holiday years (JSON in the shape of the built-in tables; all or nothing).",
			Body: []calendar.YearInput{}, Resp: itemsOf[calendar.YearView]{},
			Example: Example{Path: "/api/v1/holiday-years/import", Body: `[{"year": 2028, "holidays": [{"name": "New Year", "days": ["2028-01-01"]}], "workdays": []}]`}},

		// ---- knowledge base ----
		{Method: "POST", Path: "/api/v1/kb/categories", Tag: "knowledge base", Summary: "Create an FAQ category.",
			Body: kb.CategoryInput{}, Resp: kb.Category{}, Status: 201,
			Example: Example{Path: "/api/v1/kb/categories", Body: `{"name": "Invoices", "sort_order": 10}`, Yields: "kb_category_id"}},
		{Method: "GET", Path: "/api/v1/kb/categories", Tag: "knowledge base", Summary: "List FAQ categories.",
			Resp: httpx.Page[kb.Category]{}, Example: Example{Path: "/api/v1/kb/categories"}},
		{Method: "GET", Path: "/api/v1/kb/categories/{id}", Tag: "knowledge base", Summary: "Read an FAQ category.",
			Resp: kb.Category{}, Example: Example{Path: "/api/v1/kb/categories/{kb_category_id}"}},
		{Method: "PATCH", Path: "/api/v1/kb/categories/{id}", Tag: "knowledge base", Summary: "Change an FAQ category.",
			Body: kb.CategoryPatch{}, Resp: kb.Category{},
			Example: Example{Path: "/api/v1/kb/categories/{kb_category_id}", Body: `{"name": "Invoices and receipts", "version": "{kb_category_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/kb/articles", Tag: "knowledge base", Summary: "Write an FAQ article (a draft).",
			Body: kb.Input{}, Resp: kb.Article{}, Status: 201,
			Example: Example{Path: "/api/v1/kb/articles", Body: `{"title": "How do I get a VAT invoice?", "body": "Send the order number and your tax id to the service desk.", "category_id": "{kb_category_id}", "tags": ["invoice"]}`, Yields: "kb_article_id"}},
		{Method: "GET", Path: "/api/v1/kb/articles", Tag: "knowledge base", Summary: "List and search FAQ articles.",
			Query: list(pQ, str("status", "draft, published or archived."), num("category_id", "Category id.")),
			Resp:  httpx.Page[kb.Article]{}, Example: Example{Path: "/api/v1/kb/articles?q=invoice"}},
		{Method: "GET", Path: "/api/v1/kb/articles/{id}", Tag: "knowledge base", Summary: "Read an FAQ article.",
			Resp: kb.Article{}, Example: Example{Path: "/api/v1/kb/articles/{kb_article_id}"}},
		{Method: "PATCH", Path: "/api/v1/kb/articles/{id}", Tag: "knowledge base", Summary: "Change an FAQ article.",
			Body: kb.Patch{}, Resp: kb.Article{},
			Example: Example{Path: "/api/v1/kb/articles/{kb_article_id}", Body: `{"tags": ["invoice", "tax"], "version": "{kb_article_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/kb/articles/{id}/publish", Tag: "knowledge base", Summary: "Publish an article (customers see it in the portal).",
			Resp: kb.Article{}, Example: Example{Path: "/api/v1/kb/articles/{kb_article_id}/publish"}},
		{Method: "GET", Path: "/api/v1/kb/suggest", Tag: "knowledge base", Summary: "Suggest published articles for a text (as an agent types).",
			Query: []Param{pQ, pLimit}, Resp: httpx.Page[kb.Suggestion]{}, Example: Example{Path: "/api/v1/kb/suggest?q=invoice&limit=5"}},

		// ---- service requests ----
		{Method: "POST", Path: "/api/v1/ticket-categories", Tag: "service requests", Summary: "Create a request category.",
			Body: ticket.CategoryInput{}, Resp: ticket.CategoryView{}, Status: 201,
			Example: Example{Path: "/api/v1/ticket-categories", Body: `{"name": "Water heaters", "skill": "heaters", "sort_order": 10}`, Yields: "ticket_category_id"}},
		{Method: "GET", Path: "/api/v1/ticket-categories", Tag: "service requests", Summary: "List request categories.",
			Resp: httpx.Page[ticket.CategoryView]{}, Example: Example{Path: "/api/v1/ticket-categories"}},
		{Method: "PATCH", Path: "/api/v1/ticket-categories/{id}", Tag: "service requests", Summary: "Change a request category.",
			Body: ticket.CategoryPatch{}, Resp: ticket.CategoryView{},
			Example: Example{Path: "/api/v1/ticket-categories/{ticket_category_id}", Body: `{"name": "Water heaters and boilers", "version": "{ticket_category_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/tickets", Tag: "service requests", Summary: "Create a service request (SLA clocks start, assignment runs).",
			Body: ticket.Input{}, Resp: ticket.View{}, Status: 201,
			Example: Example{Path: "/api/v1/tickets", Body: `{"type": "repair", "channel": "phone", "severity": "moderate", "title": "Water heater leaking", "body": "Water drips from the bottom of the heater since this morning.", "customer_id": "{customer_id}", "contact_name": "Li Lei", "fault_level": 1}`, Yields: "ticket_id"},
			More:    []Example{{Path: "/api/v1/tickets", Body: `{"type": "repair", "channel": "phone", "severity": "moderate", "fault_level": 2, "title": "Washing machine leaking", "customer_id": "{customer_id}", "team_id": "{team_id}", "reason": "Field repairs belong to the field team"}`}}},
		{Method: "GET", Path: "/api/v1/tickets", Tag: "service requests", Summary: "List and search service requests in the actor's scope.",
			Query: list(pQ, str("status", "Status."), str("type", "Type."), str("channel", "Channel."), str("severity", "Severity."),
				str("priority", "Priority."), num("dept_id", "Department id."), num("team_id", "Team id."), num("assignee_id", "Assignee id."),
				num("customer_id", "Customer id."), flag("open", "Only open (true) or only finished (false) requests."),
				flag("unassigned", "Only unassigned requests."), str("queue", "mine, team, unassigned, breaching or waiting.")),
			Resp: httpx.Page[ticket.View]{}, Example: Example{Path: "/api/v1/tickets?open=true&customer_id={customer_id}"}},
		{Method: "GET", Path: "/api/v1/tickets/{id}", Tag: "service requests", Summary: "Read a service request.",
			Resp: ticket.View{}, Example: Example{Path: "/api/v1/tickets/{ticket_id}"}},
		{Method: "PATCH", Path: "/api/v1/tickets/{id}", Tag: "service requests", Summary: "Change a service request's fields.",
			Body: ticket.Patch{}, Resp: ticket.View{},
			Example: Example{Path: "/api/v1/tickets/{ticket_id}", Body: `{"severity": "major", "version": "{ticket_id_version}"}`}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/note", Tag: "service requests", Summary: "Add an internal note.",
			Body: noteRequest{}, Resp: eventResult{}, Status: 201,
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/note", Body: `{"body": "Customer says the leak started after the power cut."}`}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/reply", Tag: "service requests", Summary: "Reply to the customer (optionally changing the status).",
			Body: ticket.ReplyInput{}, Resp: eventResult{}, Status: 201,
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/reply", Body: `{"body": "A technician will call you today to arrange a visit.", "status": "in_progress"}`}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/kb-links", Tag: "service requests", Summary: "Link a published FAQ article.",
			Body: linkRequest{}, Resp: ticket.View{}, Status: 201,
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/kb-links", Body: `{"article_id": "{kb_article_id}"}`}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/events", Tag: "service requests", Summary: "The request's timeline.",
			Resp: httpx.Page[ticket.EventView]{}, Example: Example{Path: "/api/v1/tickets/{ticket_id}/events"}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/attachments", Tag: "service requests", Summary: "Attach a file (multipart part \"file\", at most 10 MiB; HTML, SVG, scripts and executables are refused).",
			BodyMedia: mediaMultipart, Resp: ticket.AttachmentView{}, Status: 201,
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/attachments", ContentType: mediaMultipart,
				File: &ExampleFile{Field: "file", Name: "delivery-note.txt", Content: "Delivery note 42: two cups broken."}, Yields: "attachment_id"}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/attachments", Tag: "service requests", Summary: "List a request's attachments.",
			Resp: httpx.Page[ticket.AttachmentView]{}, Example: Example{Path: "/api/v1/tickets/{ticket_id}/attachments"}},
		{Method: "GET", Path: "/api/v1/attachments/{id}", Tag: "service requests", Summary: "Download an attachment (always as a download, never inline HTML).",
			RespMedia: mediaAny, Example: Example{Path: "/api/v1/attachments/{attachment_id}"}},
		{Method: "POST", Path: "/api/v1/canned-replies", Tag: "service requests", Summary: "Create a canned reply.",
			Body: ticket.CannedInput{}, Resp: ticket.CannedView{}, Status: 201,
			Example: Example{Path: "/api/v1/canned-replies", Body: `{"title": "Visit arranged", "body": "A technician will visit you about request {{number}}."}`, Yields: "canned_id"}},
		{Method: "GET", Path: "/api/v1/canned-replies", Tag: "service requests", Summary: "List canned replies.",
			Resp: httpx.Page[ticket.CannedView]{}, Example: Example{Path: "/api/v1/canned-replies"}},
		{Method: "PATCH", Path: "/api/v1/canned-replies/{id}", Tag: "service requests", Summary: "Change a canned reply.",
			Body: ticket.CannedPatch{}, Resp: ticket.CannedView{},
			Example: Example{Path: "/api/v1/canned-replies/{canned_id}", Body: `{"title": "Technician visit arranged", "version": "{canned_id_version}"}`}},
		{Method: "GET", Path: "/api/v1/tickets/{id}/canned-replies/{cid}", Tag: "service requests", Summary: "A canned reply filled in for a request.",
			Resp: renderedCanned{}, Example: Example{Path: "/api/v1/tickets/{ticket_id}/canned-replies/{canned_id}"}},
		{Method: "POST", Path: "/api/v1/sla-policies", Tag: "SLA", Summary: "Create an SLA policy.",
			Body: ticket.SLAPolicyInput{}, Resp: ticket.SLAPolicy{}, Status: 201,
			Example: Example{Path: "/api/v1/sla-policies", Body: `{"name": "VIP complaints", "type": "complaint", "tier": "vip", "calendar_id": "default", "response_target": "2h", "response_mode": "business_hours", "resolve_target": "1d", "resolve_mode": "working_days", "confirm_target": "24h", "confirm_mode": "calendar", "warn_before": "20%"}`, Yields: "sla_policy_id"}},
		{Method: "GET", Path: "/api/v1/sla-policies", Tag: "SLA", Summary: "List SLA policies.",
			Resp: itemsOf[ticket.SLAPolicy]{}, Example: Example{Path: "/api/v1/sla-policies"}},
		{Method: "GET", Path: "/api/v1/sla-policies/{id}", Tag: "SLA", Summary: "Read an SLA policy.",
			Resp: ticket.SLAPolicy{}, Example: Example{Path: "/api/v1/sla-policies/{sla_policy_id}"}},
		{Method: "PATCH", Path: "/api/v1/sla-policies/{id}", Tag: "SLA", Summary: "Change an SLA policy.",
			Body: ticket.SLAPolicyInput{}, Resp: ticket.SLAPolicy{},
			Example: Example{Path: "/api/v1/sla-policies/{sla_policy_id}", Body: `{"warn_before": "30m", "version": "{sla_policy_id_version}"}`}},

		// ---- assignment ----
		{Method: "GET", Path: "/api/v1/teams/{id}/assignment", Tag: "assignment", Summary: "Read a team's assignment rule.",
			Resp: ticket.TeamRule{}, Example: Example{Path: "/api/v1/teams/{team_id}/assignment"}},
		{Method: "PUT", Path: "/api/v1/teams/{id}/assignment", Tag: "assignment", Summary: "Set a team's assignment rule.",
			Body: ticket.TeamRuleInput{}, Resp: ticket.TeamRule{},
			Example: Example{Path: "/api/v1/teams/{team_id}/assignment", Body: `{"strategy": "least_loaded", "default_cap": 20, "respect_availability": true}`}},
		{Method: "PUT", Path: "/api/v1/agents/me/presence", Tag: "assignment", Summary: "Set one's own availability.",
			Body: myPresenceRequest{}, Resp: ticket.Agent{},
			Example: Example{Path: "/api/v1/agents/me/presence", Body: `{"availability": "online"}`}},
		{Method: "PUT", Path: "/api/v1/agents/{id}/presence", Tag: "assignment", Summary: "Set an agent's availability and personal cap.",
			Body: ticket.PresenceInput{}, Resp: ticket.Agent{},
			Example: Example{Path: "/api/v1/agents/{staff_id}/presence", Body: `{"availability": "online", "cap": 15}`}},
		{Method: "GET", Path: "/api/v1/agents", Tag: "assignment", Summary: "List agents with availability and load.",
			Query: list(str("availability", "online, away or offline."), num("dept_id", "Department id."), num("team_id", "Team id.")),
			Resp:  httpx.Page[ticket.Agent]{}, Example: Example{Path: "/api/v1/agents?team_id={team_id}"}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/take", Tag: "assignment", Summary: "Take an unassigned request of one's team.",
			Resp: ticket.View{}, Example: Example{Path: "/api/v1/tickets/{ticket_id}/take"}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/transfer", Tag: "assignment", Summary: "Transfer a request to another department or team, with a reason.",
			Body: ticket.TransferInput{}, Resp: ticket.View{},
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/transfer", Body: `{"dept_id": "{dept_id}", "team_id": "{team_id}", "reason": "Needs the after-sales team"}`}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/assign", Tag: "assignment", Summary: "Assign a request to an agent or a team.",
			Body: ticket.AssignInput{}, Resp: ticket.View{},
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/assign", Body: `{"assignee_id": "{staff_id}", "reason": "Knows this heater model"}`}},
		{Method: "POST", Path: "/api/v1/tickets/{id}/dispatch", Tag: "assignment", Summary: "Dispatch a repair request to a field technician (no body: pick one).",
			Body: ticket.DispatchInput{}, OptionalBody: true, Resp: ticket.View{},
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/dispatch", Body: `{"technician_id": "{staff_id}", "reason": "Nearest technician"}`}},

		{Method: "POST", Path: "/api/v1/tickets/{id}/transition", Tag: "service requests", Summary: "Change the status (reopening and cancelling need a reason).",
			Body: transitionRequest{}, Resp: ticket.View{},
			Example: Example{Path: "/api/v1/tickets/{ticket_id}/transition", Body: `{"status": "resolved", "reason": "Valve replaced on site"}`}},

		{Method: "GET", Path: "/api/v1/openapi.json", Tag: "api", Summary: "This document (OpenAPI 3.1).",
			RespMedia: "application/json", Example: Example{Path: "/api/v1/openapi.json"}},
		// ---- deletions last ----
		{Method: "POST", Path: "/api/v1/kb/articles/{id}/unpublish", Tag: "knowledge base", Summary: "Take an article back to draft.",
			Resp: kb.Article{}, Example: Example{Path: "/api/v1/kb/articles/{kb_article_id}/unpublish"}},
		{Method: "DELETE", Path: "/api/v1/kb/articles/{id}", Tag: "knowledge base", Summary: "Archive an FAQ article (answers the archived article).",
			Resp: kb.Article{}, Example: Example{Path: "/api/v1/kb/articles/{kb_article_id}"}},
		{Method: "DELETE", Path: "/api/v1/kb/categories/{id}", Tag: "knowledge base", Summary: "Delete an empty FAQ category.",
			Status: 204, Example: Example{Path: "/api/v1/kb/categories/{kb_category_id}"}},
		{Method: "DELETE", Path: "/api/v1/canned-replies/{id}", Tag: "service requests", Summary: "Delete a canned reply.",
			Status: 204, Example: Example{Path: "/api/v1/canned-replies/{canned_id}"}},
		{Method: "DELETE", Path: "/api/v1/ticket-categories/{id}", Tag: "service requests", Summary: "Delete an unused request category.",
			Status: 204, Example: Example{Path: "/api/v1/ticket-categories/{ticket_category_id}"}},
		{Method: "DELETE", Path: "/api/v1/sla-policies/{id}", Tag: "SLA", Summary: "Delete an SLA policy.",
			Status: 204, Example: Example{Path: "/api/v1/sla-policies/{sla_policy_id}"}},
		{Method: "DELETE", Path: "/api/v1/customers/{id}/transactions/{tid}", Tag: "customers", Summary: "Delete a transaction.",
			Status: 204, Example: Example{Path: "/api/v1/customers/{customer_id}/transactions/{transaction_id}"}},
		{Method: "DELETE", Path: "/api/v1/customers/{id}/contacts/{cid}", Tag: "customers", Summary: "Delete a contact person.",
			Status: 204, Example: Example{Path: "/api/v1/customers/{customer_id}/contacts/{contact_id}"}},
		{Method: "DELETE", Path: "/api/v1/territories/{id}", Tag: "territories", Summary: "Delete a territory without sub-territories.",
			Status: 204, Example: Example{Path: "/api/v1/territories/{spare_territory_id}"}},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Tag: "tokens", Summary: "Revoke an API token.",
			Status: 204, Example: Example{Path: "/api/v1/tokens/{token_id}"}},
		{Method: "DELETE", Path: "/api/v1/roles/{id}", Tag: "organisation", Summary: "Delete a custom role nobody holds.",
			Status: 204, Example: Example{Path: "/api/v1/roles/{role_id}"}},
		{Method: "DELETE", Path: "/api/v1/teams/{id}", Tag: "organisation", Summary: "Delete a team without members.",
			Status: 204, Example: Example{Path: "/api/v1/teams/{spare_team_id}"}},
		{Method: "DELETE", Path: "/api/v1/departments/{id}", Tag: "organisation", Summary: "Delete a department without teams or staff.",
			Status: 204, Example: Example{Path: "/api/v1/departments/{spare_dept_id}"}},
	}
}
