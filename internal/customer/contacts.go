package customer

import (
	"context"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Contacts and key persons of a customer. Every change bumps the customer's version,
// re-indexes its search document and is audited; a list is a read of the file.

// ListContacts returns a customer's contacts (audited as a read of the file).
func (s *Service) ListContacts(ctx context.Context, customerID int64) ([]Contact, error) {
	if _, err := s.loadScope(ctx, PermRead, customerID); err != nil {
		return nil, err
	}
	cts, err := s.contactsOf(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, "customer.read", customerID, map[string]any{"part": "contacts", "masked": true}); err != nil {
		return nil, err
	}
	return cts, nil
}

// loadScope loads a customer row and checks that perm's scope reaches it.
func (s *Service) loadScope(ctx context.Context, perm string, id int64) (custRow, error) {
	actor, err := authz.Require(ctx, perm)
	if err != nil {
		return custRow{}, err
	}
	r, err := s.store.Customer(ctx, id)
	if err != nil {
		return custRow{}, notFound(err)
	}
	if !actor.Reaches(perm, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}) {
		return custRow{}, apperr.NotFoundf("thing.customer")
	}
	return r, nil
}

// changeContacts runs fn on a customer open for writing, then bumps its version and
// re-indexes it, all in one transaction.
func (s *Service) changeContacts(ctx context.Context, customerID int64, fn func(ctx context.Context, c *Customer) error) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.loadScope(ctx, PermWrite, customerID)
		if err != nil {
			return err
		}
		if r.Status != StatusActive {
			return apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
		}
		c, err := s.fromRow(r)
		if err != nil {
			return err
		}
		if err := fn(ctx, &c); err != nil {
			return err
		}
		now := s.now()
		if err := s.store.TouchCustomer(ctx, customerID, ms(now)); err != nil {
			return err
		}
		cts, err := s.contactsOf(ctx, customerID)
		if err != nil {
			return err
		}
		return s.reindex(ctx, &c, cts)
	})
}

// AddContact adds a contact or key person to a customer.
func (s *Service) AddContact(ctx context.Context, customerID int64, in ContactInput) (Contact, error) {
	if _, err := authz.Require(ctx, PermWrite); err != nil {
		return Contact{}, err
	}
	now := s.now()
	ct := Contact{CustomerID: customerID, CreatedAt: now, UpdatedAt: now, Version: 1}
	f := apperr.Fields{}
	applyContact(&ct, in.patch(), s.today(), f, "")
	if err := f.Err(); err != nil {
		// Out-of-scope customers still read as not found first.
		if _, lerr := s.loadScope(ctx, PermWrite, customerID); lerr != nil {
			return Contact{}, lerr
		}
		return Contact{}, err
	}
	row, err := s.contactToRow(&ct)
	if err != nil {
		return Contact{}, err
	}
	err = s.changeContacts(ctx, customerID, func(ctx context.Context, c *Customer) error {
		rows := []contactRow{row}
		if err := s.store.InsertContacts(ctx, rows); err != nil {
			return err
		}
		ct.ID = rows[0].ID
		return s.record(ctx, "customer.contact.create", customerID, map[string]any{"contact_id": ct.ID,
			"key_person": ct.IsKeyPerson})
	})
	return ct, err
}

// UpdateContact changes a contact of a customer. p.Version must be the contact's
// current version (428 without one, 409 when stale).
func (s *Service) UpdateContact(ctx context.Context, customerID, contactID int64, p ContactPatch) (Contact, error) {
	if p.Version == nil {
		return Contact{}, apperr.VersionRequired()
	}
	var out Contact
	err := s.changeContacts(ctx, customerID, func(ctx context.Context, c *Customer) error {
		r, err := s.store.Contact(ctx, customerID, contactID)
		if err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.contact")
			}
			return err
		}
		ct, err := s.contactFromRow(r)
		if err != nil {
			return err
		}
		if *p.Version != ct.Version {
			return apperr.StaleVersion(ct.Version)
		}
		f := apperr.Fields{}
		applyContact(&ct, p, s.today(), f, "")
		if err := f.Err(); err != nil {
			return err
		}
		ct.UpdatedAt = s.now()
		row, err := s.contactToRow(&ct)
		if err != nil {
			return err
		}
		ok, err := s.store.UpdateContact(ctx, &row, ct.Version)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		ct.Version++
		out = ct
		return s.record(ctx, "customer.contact.update", customerID, map[string]any{"contact_id": ct.ID})
	})
	return out, err
}

// DeleteContact removes a contact of a customer.
func (s *Service) DeleteContact(ctx context.Context, customerID, contactID int64) error {
	return s.changeContacts(ctx, customerID, func(ctx context.Context, c *Customer) error {
		if _, err := s.store.Contact(ctx, customerID, contactID); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFoundf("thing.contact")
			}
			return err
		}
		if err := s.store.DeleteContact(ctx, customerID, contactID); err != nil {
			return err
		}
		return s.record(ctx, "customer.contact.delete", customerID, map[string]any{"contact_id": contactID})
	})
}
