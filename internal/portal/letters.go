package portal

// Public letters (SPEC §2.3): the center's published answers to a problem many customers
// share, open to anyone like the FAQ.

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Letters is what the portal needs of the complaint capability (*complaint.Service):
// published letters only; anything else reads as not found.
type Letters interface {
	PublishedLetters(ctx context.Context, limit int, before int64) ([]complaint.Letter, error)
	PublishedLetter(ctx context.Context, id int64) (complaint.Letter, error)
}

// SetLetters sets the public letters the pages show (nil hides them: 404).
func (s *Service) SetLetters(l Letters) { s.letters = l }

// lettersPerPage is how many letters one list page shows.
const lettersPerPage = 20

// LetterRow is a public letter in the list.
type LetterRow struct {
	ID        int64
	Title     string
	Excerpt   string
	Published time.Time
}

// LettersPage is the model of the public letter list.
type LettersPage struct {
	Shell
	Items []LetterRow
	More  string // the next page's URL ("" = none)
}

// LetterPage is the model of one public letter.
type LetterPage struct {
	Shell
	Title     string
	Body      string
	Published time.Time
}

var errNoLetter = apperr.NotFoundf("thing.complaint_letter")

func (p pages) lettersList(w http.ResponseWriter, r *http.Request) {
	if p.s.letters == nil {
		p.fail(w, r, errNoLetter)
		return
	}
	before, err := httpx.QueryInt64(r, "before")
	if err != nil || before < 0 {
		p.fail(w, r, errNoLetter)
		return
	}
	ls, err := p.s.letters.PublishedLetters(r.Context(), lettersPerPage, before)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	page := LettersPage{Shell: p.shell(r, "letters")}
	for _, l := range ls {
		page.Items = append(page.Items, LetterRow{ID: l.ID, Title: l.Title, Excerpt: excerpt(l.Body, 80), Published: l.PublishedAt})
	}
	if len(ls) == lettersPerPage {
		page.More = "/portal/letters?before=" + strconv.FormatInt(ls[len(ls)-1].ID, 10)
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/letters", "portal.letters.title", page)
}

func (p pages) letter(w http.ResponseWriter, r *http.Request) {
	if p.s.letters == nil {
		p.fail(w, r, errNoLetter)
		return
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	l, err := p.s.letters.PublishedLetter(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "portal/letter", "portal.letters.title",
		LetterPage{Shell: p.shell(r, "letters"), Title: l.Title, Body: l.Body, Published: l.PublishedAt})
}
