package ticket

import (
	"context"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/search"
)

// maxDocText caps the text of one search document (characters of the replies beyond
// it are not searchable; the number, title and body always are).
const maxDocText = 60000

// docText is the search document of t: number, title, body, contact name, then the
// reply and note texts (staff replies, customer replies, internal notes; the index is
// searched by staff only).
func docText(t *Ticket, texts []string) string {
	var b strings.Builder
	b.Grow(len(t.Number) + len(t.Title) + len(t.Body) + 64)
	b.WriteString(t.Number)
	b.WriteByte(' ')
	b.WriteString(t.Title)
	b.WriteByte('\n')
	b.WriteString(t.ContactName)
	b.WriteByte('\n')
	b.WriteString(t.Body)
	for _, s := range texts {
		if b.Len()+len(s) > maxDocText {
			break
		}
		b.WriteByte('\n')
		b.WriteString(s)
	}
	return b.String()
}

// reindex puts t's search document again (after a reply, a note or an edit), inside
// ctx's transaction.
func (s *Service) reindex(ctx context.Context, t *Ticket) error {
	texts, err := s.store.SearchTexts(ctx, t.ID)
	if err != nil {
		return err
	}
	if err := s.index.Put(ctx, search.Doc{ID: t.ID, Text: docText(t, texts)}); err != nil {
		return fmt.Errorf("ticket: index: %w", err)
	}
	return nil
}

// Reindex rebuilds the search documents of every request (the CLI's reindex command);
// it returns how many were written.
func (s *Service) Reindex(ctx context.Context) (int, error) {
	n := 0
	var before int64
	for {
		q := listQuery{sc: listScope{scope: "all"}, before: before, limit: 500}
		ts, err := s.store.ListTickets(ctx, q)
		if err != nil {
			return n, err
		}
		if len(ts) == 0 {
			return n, nil
		}
		err = s.db.WithTx(ctx, func(ctx context.Context) error {
			for i := range ts {
				if err := s.reindex(ctx, &ts[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(ts)
		before = ts[len(ts)-1].ID
	}
}
