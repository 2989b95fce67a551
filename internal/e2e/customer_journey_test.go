package e2e

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// pickSearchable finds a demo customer with a mobile and a two-character Chinese word
// of its name whose search puts it on the first page of /customers.
func pickSearchable(t *testing.T, s *site) (customer.Customer, string) {
	t.Helper()
	ctx := authz.WithActor(context.Background(), authz.System("e2e"))
	cs := s.App.Customer
	page, err := cs.ListCustomers(ctx, customer.Filter{}, 200, "")
	if err != nil {
		t.Fatalf("list demo customers: %v", err)
	}
	han := regexp.MustCompile(`^\p{Han}{2}$`)
	for _, c := range page.Items {
		if c.Mobile == "" {
			continue
		}
		rs := []rune(c.Name)
		for i := len(rs) - 2; i >= 0; i-- { // the end of a name is its rarest part
			q := string(rs[i : i+2])
			if !han.MatchString(q) {
				continue
			}
			hits, err := cs.ListCustomers(ctx, customer.Filter{Q: q}, 20, "")
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			for _, h := range hits.Items {
				if h.ID == c.ID {
					full, err := cs.GetCustomer(ctx, c.ID)
					if err != nil {
						t.Fatalf("load customer %d: %v", c.ID, err)
					}
					return full, q
				}
			}
		}
	}
	t.Fatal("no demo customer with a mobile is found by a two-character word of its name")
	return customer.Customer{}, ""
}

// TestCustomerSearchRevealAudit is the customer-files journey: search a customer in
// Chinese, open the file, see the masked mobile, reveal it with a reason, see the clear
// number, and find the reveal in the audit log.
func TestCustomerSearchRevealAudit(t *testing.T) {
	chromiumPath(t)
	cat := i18n.MustLoad()
	s := startSite(t)
	admin := s.login(t, "admin")
	target, query := pickSearchable(t, s)
	id := strconv.FormatInt(target.ID, 10)
	masked := secure.MaskMobile(target.Mobile)
	if !regexp.MustCompile(`^1\d{2}\*{4}\d{4}$`).MatchString(masked) || masked == target.Mobile {
		t.Fatalf("masked mobile %q of %q does not look like 138****1234", masked, target.Mobile)
	}
	reason := "核实客户身份（来电回访）"

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bctx, console := browser(t, ctx)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: timed out", name)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	read := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return strings.TrimSpace(v)
	}

	// 1. Sign in as the demo administrator and open the customer list.
	step("sign in",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(s.URL+"/login"),
		visibleIn(i18n.ZhCN, `#login`),
		chromedp.SendKeys(chromedp.ID(`username`), admin.Username),
		chromedp.SendKeys(chromedp.ID(`password`), admin.Password),
		chromedp.Click(chromedp.ID(`login-submit`)),
		visibleIn(i18n.ZhCN, `#me`),
	)
	step("open /customers", chromedp.Navigate(s.URL+"/customers"), visibleIn(i18n.ZhCN, `#customer-filter`))
	if h := read("read the heading", chromedp.Text(chromedp.CSS(`main h1`))); h != cat.T(i18n.ZhCN, "page.customers.title", nil) {
		t.Errorf("customer list heading %q", h)
	}

	// 2. Search by a two-character Chinese word of the customer's name.
	link := fmt.Sprintf(`#customer-table a[href="/customers/%s"]`, id)
	step("search "+query,
		chromedp.SendKeys(chromedp.ID(`f-q`), query),
		chromedp.Submit(chromedp.ID(`f-q`)),
		// The results page carries the query in the box's value attribute (typing
		// into the list page before it changes only the property).
		chromedp.WaitVisible(chromedp.CSS(`#f-q[value="`+query+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(link)),
	)
	if q := read("read the search box", chromedp.Value(chromedp.ID(`f-q`))); q != query {
		t.Errorf("search box shows %q after searching %q", q, query)
	}
	rows := read("read the result table", chromedp.Text(chromedp.ID(`customer-table`)))
	if !strings.Contains(rows, target.Name) || !strings.Contains(rows, masked) || strings.Contains(rows, target.Mobile) {
		t.Errorf("result table lacks %q / the masked mobile %q, or shows the clear one:\n%s", target.Name, masked, rows)
	}

	// 3. Open the file: the mobile is masked.
	step("open the file", chromedp.Click(chromedp.CSS(link)), visibleIn(i18n.ZhCN, `#customer-facts`))
	if path := read("read location", chromedp.Evaluate[string](`location.pathname`)); path != "/customers/"+id {
		t.Fatalf("opened %s, want /customers/%s", path, id)
	}
	if h := read("read the heading", chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h, target.Name) {
		t.Errorf("file heading %q lacks %q", h, target.Name)
	}
	if m := read("read the mobile", chromedp.Text(chromedp.ID(`v-mobile`))); m != masked {
		t.Errorf("file shows mobile %q, want masked %q", m, masked)
	}
	if html := read("read the page", chromedp.OuterHTML(chromedp.CSS(`main`))); strings.Contains(html, target.Mobile) {
		t.Error("the clear mobile is in the page before any reveal")
	}

	// 4. Reveal the mobile with a reason: the clear number is shown.
	step("reveal the mobile",
		chromedp.Click(chromedp.CSS(`#reveal-form input[name="fields"][value="mobile"]`)),
		chromedp.SendKeys(chromedp.ID(`reveal-reason`), reason),
		chromedp.Submit(chromedp.ID(`reveal-reason`)),
		visibleIn(i18n.ZhCN, `#revealed-note`),
	)
	if m := read("read the revealed mobile", chromedp.Text(chromedp.ID(`v-mobile`))); m != target.Mobile {
		t.Errorf("after the reveal the file shows mobile %q, want %q", m, target.Mobile)
	}
	if note := read("read the reveal note", chromedp.Text(chromedp.ID(`revealed-note`))); note != cat.T(i18n.ZhCN, "customer.reveal.shown", nil) {
		t.Errorf("reveal note %q", note)
	}
	step("scroll to the file's facts", chromedp.ScrollIntoView(chromedp.ID(`customer-facts`)))
	screenshot(t, bctx, "kefu-customer.png")

	// 5. The audit log shows the reveal of this customer, with its reason.
	step("open /audit", chromedp.Navigate(s.URL+"/audit"), visibleIn(i18n.ZhCN, `#audit-entries`))
	found := read("find the reveal entry", chromedp.Evaluate[string](fmt.Sprintf(`(function () {
		for (const tr of document.querySelectorAll("#audit-entries tbody tr")) {
			const td = tr.querySelectorAll("td");
			if (td[3].textContent.trim() === "customer.reveal" && td[4].textContent.trim() === "customer #%s") {
				return tr.textContent;
			}
		}
		return "";
	})()`, id)))
	if found == "" {
		t.Fatalf("no customer.reveal entry for customer #%s on /audit:\n%s", id,
			read("read the audit page", chromedp.Text(chromedp.ID(`audit-entries`))))
	}
	for _, want := range []string{admin.Username, `"mobile"`, reason} {
		if !strings.Contains(found, want) {
			t.Errorf("audit entry %q lacks %q", found, want)
		}
	}
	if strings.Contains(found, target.Mobile) {
		t.Error("the audit entry holds the clear mobile")
	}

	for _, msg := range console.all() {
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "exception") {
			t.Errorf("browser console: %s", msg)
		}
	}
}
