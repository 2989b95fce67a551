package revisit

import (
	"context"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
)

// Background work, each exactly once per period across nodes (platform/jobs):
//   - revisit.engine: the inbox pass, kicked by each trigger (one job per two-second
//     slot) and every minute for anything left behind;
//   - revisit.plans: daily at 00:10 China time, runs the month's plans that have not run
//     yet (coop_monthly on the 1st; a node down on the 1st catches up the next day), and the
//     care plans (plans_care.go: plan.half_month on the 1st and 16th, plan.birthday daily);
//   - revisit.expire: hourly, marks open tasks whose window has ended expired;
//   - revisit.repeat: hourly at :20, continues the series of repeating rules (repeat.go).
func (s *Service) registerJobs(r *jobs.Runner) {
	r.Register(JobEngine, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.RunEngine(ctx)
		return err
	})
	r.Every(JobEngine, jobs.Every(time.Minute))
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		shanghai = time.FixedZone("CST", 8*3600)
	}
	r.Register(JobPlans, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.RunDuePlans(ctx)
		return err
	})
	r.Every(JobPlans, jobs.Daily(0, 10, shanghai))
	r.Register(JobExpire, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ExpireTasks(ctx)
		return err
	})
	r.Every(JobExpire, jobs.Hourly(5))
	r.Register(JobRepeat, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.RunRepeats(ctx)
		return err
	})
	r.Every(JobRepeat, jobs.Hourly(20))
}

// ExpireTasks marks open tasks whose window ended (and with no retry pending) expired,
// in batches; it returns how many.
func (s *Service) ExpireTasks(ctx context.Context) (int64, error) {
	ctx = authz.WithActor(ctx, authz.System("job:"+JobExpire))
	var total int64
	for {
		var n int64
		err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
			var err error
			if n, err = s.store.expireTasks(ctx, s.now(), 1000); err != nil || n == 0 {
				return err
			}
			return s.record(ctx, "revisit.task.expire", "revisit_task", 0, map[string]any{"count": n})
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
