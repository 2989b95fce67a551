package openapi_test

import (
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// activityHooks prepare the activity examples: the customer the participant spreadsheet
// names by mobile ({activity_customer_id}, taken off the activity by the DELETE example).
func activityHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	create("/api/v1/customers", `{"kind": "person", "name": "Participant Example", "mobile": "13500135000"}`, "activity_customer_id")
	return nil
}
