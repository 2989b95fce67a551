package portal

import (
	"context"

	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/survey"
)

// Complaints tells the portal the stage of a request that carries a complaint
// (complaint.Service, wired in app.go); nil leaves the stage out of the request page.
type Complaints interface {
	// PortalStage is the stage of the complaint of request ticketID as the customer in
	// ctx may see it; ok is false when there is none for them.
	PortalStage(ctx context.Context, ticketID int64) (stage i18n.Msg, ok bool, err error)
}

// SetComplaints sets the complaint service the request page asks for the stage.
func (s *Service) SetComplaints(c Complaints) { s.complaints = c }

// Surveys lists a customer's open surveys offered on the portal (survey.Service, wired in
// app.go); nil leaves them out of the request list.
type Surveys interface {
	// PendingForCustomer returns the open portal surveys of customer id, each with a
	// fresh public link (Link).
	PendingForCustomer(ctx context.Context, customerID int64) ([]survey.Invite, error)
}

// SetSurveys sets the survey service the request list asks for open surveys.
func (s *Service) SetSurveys(v Surveys) { s.surveys = v }
