package survey

import (
	"context"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
)

// TemplateInput creates a survey template.
type TemplateInput struct {
	Name        string     `json:"name"`
	Description string     `json:"description" text:"multiline"`
	Questions   []Question `json:"questions"`
	Active      *bool      `json:"active"`     // default true
	Default     bool       `json:"is_default"` // the template of automatic invitations
}

// TemplatePatch changes a template; fields not sent stay. Version is required.
type TemplatePatch struct {
	Name        *string     `json:"name"`
	Description *string     `json:"description" text:"multiline"`
	Questions   *[]Question `json:"questions"`
	Active      *bool       `json:"active"`
	Default     *bool       `json:"is_default"`
	Version     *int64      `json:"version"`
}

// Templates lists every template (survey:read).
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return nil, err
	}
	ts, err := s.store.Templates(ctx)
	if ts == nil {
		ts = []Template{}
	}
	return ts, err
}

// GetTemplate reads template id (survey:read).
func (s *Service) GetTemplate(ctx context.Context, id int64) (Template, error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return Template{}, err
	}
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return Template{}, notFound(err, "thing.survey_template")
	}
	return t, nil
}

func checkTemplate(f apperr.Fields, t *Template) {
	t.Name = checkText(f, "name", t.Name, maxName, true)
	t.Description = checkText(f, "description", t.Description, maxDesc, false)
	t.Questions = ValidateQuestions(f, t.Questions)
	if t.Default && !t.Active {
		f.Add("active", "survey.invalid.default_inactive")
	}
}

// CreateTemplate adds a template (survey:manage).
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (Template, error) {
	a, err := authz.RequireStaff(ctx, PermManage)
	if err != nil {
		return Template{}, err
	}
	now := s.now()
	t := Template{Name: in.Name, Description: in.Description, Questions: in.Questions, Active: in.Active == nil || *in.Active,
		Default: in.Default, Version: 1, CreatedAt: now, UpdatedAt: now}
	if a.Kind == authz.KindStaff {
		t.CreatedBy = a.ID
	}
	f := apperr.Fields{}
	checkTemplate(f, &t)
	if err := f.Err(); err != nil {
		return Template{}, err
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertTemplate(ctx, &t); err != nil {
			return err
		}
		if t.Default {
			if err := s.store.ClearDefault(ctx, t.ID, now); err != nil {
				return err
			}
		}
		return s.record(ctx, "survey.template.create", "survey_template", t.ID, map[string]any{"name": t.Name,
			"questions": len(t.Questions), "is_default": t.Default})
	})
	return t, err
}

// PatchTemplate changes template id (survey:manage). The default template cannot be
// switched off or stop being the default directly: make another one the default.
func (s *Service) PatchTemplate(ctx context.Context, id int64, p TemplatePatch) (Template, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Template{}, err
	}
	if p.Version == nil {
		return Template{}, apperr.VersionRequired()
	}
	var out Template
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.store.Template(ctx, id)
		if err != nil {
			return notFound(err, "thing.survey_template")
		}
		if *p.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		wasDefault := t.Default
		changed := []string{}
		if p.Name != nil {
			t.Name = *p.Name
			changed = append(changed, "name")
		}
		if p.Description != nil {
			t.Description = *p.Description
			changed = append(changed, "description")
		}
		if p.Questions != nil {
			t.Questions = *p.Questions
			changed = append(changed, "questions")
		}
		if p.Active != nil {
			t.Active = *p.Active
			changed = append(changed, "active")
		}
		if p.Default != nil {
			t.Default = *p.Default
			changed = append(changed, "is_default")
		}
		if wasDefault && (!t.Default || !t.Active) {
			return apperr.New(apperr.Conflict, "survey.error.default_needed").WithCode("default_template").OnField("is_default")
		}
		f := apperr.Fields{}
		checkTemplate(f, &t)
		if err := f.Err(); err != nil {
			return err
		}
		prev := t.Version
		t.Version, t.UpdatedAt = t.Version+1, s.now()
		if ok, err := s.store.UpdateTemplate(ctx, &t, prev); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(prev)
		}
		if t.Default && !wasDefault {
			if err := s.store.ClearDefault(ctx, t.ID, t.UpdatedAt); err != nil {
				return err
			}
		}
		if err := s.record(ctx, "survey.template.update", "survey_template", t.ID, map[string]any{"changed": changed}); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}
