package revisit_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/mail/mailtest"
	"github.com/kefu-cn/kefu/internal/revisit"
)

// TestNoticeMail: with mail configured, a notice is mailed to its recipient once and
// stamped mailed.
func TestNoticeMail(t *testing.T) {
	e := newWorkEnv(t)
	ctx := apptest.SystemCtx()
	smtp := mailtest.New(t, "kefu", "pw")
	pw := smtp.Password
	if _, err := e.srv.App.Mail.Update(ctx, mail.Input{Host: smtp.Host, Port: smtp.Port, Username: smtp.Username,
		Password: &pw, From: "kefu@example.com", FromName: "Kefu", Security: mail.SecurityNone, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	addr, ver := "agent@example.com", e.agent.Staff.Version
	if _, err := e.srv.App.Org.UpdateStaff(ctx, e.agent.Staff.ID, org.StaffPatch{Email: &addr, Version: &ver}); err != nil {
		t.Fatal(err)
	}
	tk := e.task(t, "visit_plain", revisit.MethodPhone, revisit.LevelGeneral)
	wkStatus(t, e.sup.Do(t, http.MethodPost, wkRecordPath(tk.ID), e.reached(revisit.MethodPhone, 4)), http.StatusOK)
	for i := 0; i < 2; i++ {
		if _, err := e.srv.App.Jobs.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	msgs := smtp.Wait(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != addr || !strings.Contains(msgs[0].Subject, fmt.Sprint(tk.ID)) {
		t.Fatalf("mails: %+v", msgs)
	}
	v := e.view(t, e.agent, tk.ID)
	if len(v.Notices) != 1 || v.Notices[0].MailedAt == nil {
		t.Fatalf("notice not stamped mailed: %+v", v.Notices)
	}
}
