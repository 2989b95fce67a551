package revisit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/revisit"
)

var (
	workMobileMu  sync.Mutex
	workMobileRng = rand.New(rand.NewPCG(16, 2026))
)

func wkMobile() string {
	workMobileMu.Lock()
	defer workMobileMu.Unlock()
	return cnid.GenerateMobile(workMobileRng)
}

// workEnv is a running app with a customer, an agent, a supervisor and a director of
// department cs.
type workEnv struct {
	srv      *apptest.Server
	rv       *revisit.Service
	cust     int64
	deptID   int64
	agent    *apptest.Client
	sup      *apptest.Client
	director *apptest.Client
}

func newWorkEnv(t *testing.T) *workEnv {
	t.Helper()
	srv := apptest.New(t)
	c, err := srv.App.Customer.CreateCustomer(apptest.SystemCtx(), customer.Input{Kind: customer.KindPerson,
		Name: "Wang Fang", Mobile: wkMobile()})
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	e := &workEnv{srv: srv, rv: srv.App.Revisit, cust: c.ID}
	e.agent = srv.As(t, "agent")
	e.sup = srv.As(t, "supervisor")
	e.director = srv.As(t, "director")
	e.deptID = e.agent.Staff.DeptID
	return e
}

// task inserts an open visit task of rule in department cs, assigned to the agent.
func (e *workEnv) task(t *testing.T, rule, method, level string, mut ...func(*revisit.Task)) revisit.Task {
	t.Helper()
	now := time.UnixMilli(e.srv.Clock.Now().UnixMilli())
	tk := revisit.Task{Rule: rule, CustomerID: e.cust, SourceType: revisit.SourceCustomer, SourceID: e.cust, Level: level,
		DeptID: e.deptID, AssigneeID: e.agent.Staff.ID, WindowStart: now, WindowEnd: now.Add(72 * time.Hour),
		ScheduledAt: now, Method: method, Status: revisit.StatusOpen, Round: 1, Version: 1, CreatedAt: now, UpdatedAt: now}
	for _, m := range mut {
		m(&tk)
	}
	err := e.srv.App.DB.WithTx(apptest.SystemCtx(), func(ctx context.Context) error { return e.rv.Store().InsertTask(ctx, &tk) })
	if err != nil {
		t.Fatalf("insert task: %v", err)
	}
	return tk
}

func (e *workEnv) now() time.Time { return e.srv.Clock.Now().UTC() }

// reached is a complete reached phone record answering the given questions.
func (e *workEnv) reached(method string, sat int, questions ...string) map[string]any {
	answers := map[string]string{}
	for _, q := range questions {
		answers[q] = "ok"
	}
	return map[string]any{"method": method, "visited_at": e.now().Format(time.RFC3339), "reached": true,
		"satisfaction": sat, "answers": answers}
}

func (e *workEnv) unreached(method string) map[string]any {
	return map[string]any{"method": method, "visited_at": e.now().Format(time.RFC3339), "reached": false,
		"note": "no answer"}
}

func wkRecordPath(id int64) string { return fmt.Sprintf("/api/v1/revisits/%d/record", id) }

func wkStatus(t *testing.T, r *apptest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d\n%s", r.Status, want, r.Body)
	}
}

// signaturePNG draws a small signature stroke.
func wkSignaturePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 2; x < w-2; x++ {
		img.Set(x, h/2+(x%7)-3, color.NRGBA{A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wkDataURL(b []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

var _ = http.StatusOK
