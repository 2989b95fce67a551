package openapi_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/kefu-cn/kefu/internal/app/apptest"
)

// surveyHooks are the after hooks of the survey examples: the settings' current
// version for the PUT example (0 until they are first changed).
func surveyHooks(t *testing.T, s *apptest.Server, admin *apptest.Client, f fixture,
	create func(path, body, name string)) map[string]func([]byte) {
	return map[string]func([]byte){
		"GET /api/v1/survey-settings": func(body []byte) {
			var m struct {
				Version int64 `json:"version"`
			}
			if json.Unmarshal(body, &m) == nil {
				f["survey_settings_version"] = strconv.FormatInt(m.Version, 10)
			}
		},
	}
}
