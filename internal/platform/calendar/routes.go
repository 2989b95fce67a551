package calendar

import (
	"embed"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

// Routes is every calendar route with the permission it needs (the registry checks the
// same permissions again).
func (r *Registry) Routes() []httpx.Route {
	a, p := api{r: r}, pages{r: r}
	const get, post, put = "GET", "POST", "PUT"
	return []httpx.Route{
		// JSON API
		{Method: get, Path: "/api/v1/calendars", Perm: PermRead, Handler: a.listCalendars},
		{Method: get, Path: "/api/v1/calendars/{id}", Perm: PermRead, Handler: a.getCalendar},
		{Method: put, Path: "/api/v1/calendars/{id}", Perm: PermManage, Handler: a.putCalendar},
		{Method: get, Path: "/api/v1/calendars/{id}/due", Perm: PermRead, Handler: a.due},
		{Method: get, Path: "/api/v1/holiday-years", Perm: PermRead, Handler: a.listYears},
		{Method: get, Path: "/api/v1/holiday-years/{year}", Perm: PermRead, Handler: a.getYear},
		{Method: put, Path: "/api/v1/holiday-years/{year}", Perm: PermManage, Handler: a.putYear},
		{Method: post, Path: "/api/v1/holiday-years/import", Perm: PermManage, MaxBody: MaxImportBytes + 64<<10, Handler: a.importYears},

		// Pages (POST-redirect-GET)
		{Method: get, Path: "/calendars", Perm: PermRead, Page: true, Handler: p.list},
		{Method: get, Path: "/calendars/{id}", Perm: PermRead, Page: true, Handler: p.edit},
		{Method: post, Path: "/calendars/{id}", Perm: PermManage, Page: true, Handler: p.save},
		{Method: get, Path: "/holiday-years", Perm: PermRead, Page: true, Handler: p.years},
		{Method: get, Path: "/holiday-years/{year}", Perm: PermRead, Page: true, Handler: p.year},
		{Method: post, Path: "/holiday-years/{year}", Perm: PermManage, Page: true, Handler: p.saveYear},
		{Method: post, Path: "/holiday-years/import", Perm: PermManage, Page: true, MaxBody: MaxImportBytes + 64<<10, Handler: p.importYears},
	}
}
