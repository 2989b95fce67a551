package survey_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kefu-cn/kefu/internal/survey"
)

// findChromium returns the browser of the browser journeys ($KEFU_CHROMIUM,
// /usr/bin/chromium or on PATH), or skips the test (fails it in CI, where .ci/run
// installs Chromium first).
func findChromium(t *testing.T) string {
	t.Helper()
	paths := []string{os.Getenv("KEFU_CHROMIUM"), "/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		if st, err := os.Stat(p); p != "" && err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found: browser journeys are required in CI")
	}
	t.Skip("Chromium not found (install Debian's chromium or set KEFU_CHROMIUM); skipping the browser journey")
	return ""
}

// TestBrowserPhoneAnswersSurvey is browser journey 3 of issue 9: a customer whose request
// was resolved opens the emailed link on a phone-sized browser (390x844, touch), taps a
// CSAT and an NPS score, writes a comment and submits; the page thanks them, the answer
// is stored, and the link takes no second answer.
func TestBrowserPhoneAnswersSurvey(t *testing.T) {
	chromium := findChromium(t)
	e := newEnv(t)
	c := e.customer(t, "林晓雯", "lin@example.com", "")
	e.resolved(t, c.ID, 0, 0)
	e.s.Clock.Advance(3 * time.Hour)
	e.sendDue(t)
	token := tokenIn(t, e.mail.all()[0].Text)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(390, 844),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: timed out", name)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	// shot takes a screenshot (kept in $KEFU_E2E_SHOTS when set).
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil || len(png) < 1000 {
			t.Fatalf("screenshot: %v (%d bytes)", err, len(png))
		}
		if dir := os.Getenv("KEFU_E2E_SHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
	}
	eval := func(name, js string) bool {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}

	// A phone in China asks for Chinese first. This first call starts Chromium.
	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	step("open the link on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)),
		chromedp.Navigate(e.s.URL+"/s/"+token),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"] #survey-form`)),
	)
	shot("survey-phone-form.png")
	if !eval("page fits the phone", `document.documentElement.scrollWidth <= window.innerWidth`) {
		t.Errorf("the survey page scrolls sideways on a 390 px phone")
	}
	if !eval("score buttons are big enough to tap", `document.querySelector('#q_csat_5 + span').getBoundingClientRect().height >= 40`) {
		t.Errorf("the CSAT buttons are too small to tap")
	}
	step("answer",
		chromedp.Click(chromedp.CSS(`#q_csat_5 + span`)),
		chromedp.Click(chromedp.CSS(`#q_nps_9 + span`)),
		chromedp.SendKeys(chromedp.CSS(`#q_comment`), "师傅很专业，谢谢！"),
	)
	if !eval("CSAT 5 chosen", `document.getElementById('q_csat_5').checked`) {
		t.Fatal("tapping 5 did not choose it")
	}
	step("submit",
		chromedp.Click(chromedp.CSS(`#survey-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#survey-done`)),
	)
	invs := e.invites(t, survey.InviteFilter{CustomerID: c.ID})
	if len(invs) != 1 || invs[0].Status != survey.StatusAnswered {
		t.Fatalf("after the browser answered: %+v", invs)
	}
	_, resp, err := e.svc.Get(sys(), invs[0].ID)
	if err != nil || resp == nil || *resp.CSAT != 5 || *resp.NPS != 9 || len(resp.Answers) != 3 ||
		resp.Answers[2].Text != "师傅很专业，谢谢！" {
		t.Fatalf("stored answer %+v, %v", resp, err)
	}
	// Back to the link later: the thank-you page, no form.
	step("open the link again",
		chromedp.Navigate(e.s.URL+"/s/"+token),
		chromedp.WaitVisible(chromedp.CSS(`#survey-done`)),
	)
	if eval("no form on an answered link", `document.getElementById('survey-form') !== null`) {
		t.Fatal("an answered link shows the form again")
	}
	shot("survey-phone-done.png")
}
