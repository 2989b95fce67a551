package customer

import (
	"context"
	"fmt"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// Portal sign-in lookups. These run before anyone is signed in, so they carry no
// authorization and write no audit entry: the portal audits the sign-in itself, and
// it never shows what it found before the customer proved the address with a code.

const (
	// sqlPortalByEmail uses the customers_email_lower index (migration 00010).
	sqlPortalByEmail = `SELECT id FROM customers WHERE lower(email) = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT 20`
	// sqlPortalByMobile uses the customers_mobile_bidx index.
	sqlPortalByMobile = `SELECT id FROM customers WHERE mobile_bidx = ? AND status = ? ORDER BY updated_at DESC, id DESC LIMIT 20`
	sqlPortalIdentity = `SELECT id, name, email, status FROM customers WHERE id = ?`
)

// PortalIdentity is what the portal needs to know of a signed-in customer.
type PortalIdentity struct {
	ID     int64
	Name   string
	Email  string
	Status string
}

// CustomerIDsByEmail returns the active customers whose e-mail address is email
// (compared case-insensitively), the most recently updated first. An invalid address
// finds nobody. No authorization: for the portal sign-in only.
func (s *Service) CustomerIDsByEmail(ctx context.Context, email string) ([]int64, error) {
	n, err := cnid.ValidateEmail(email)
	if err != nil {
		return nil, nil
	}
	return s.portalIDs(ctx, sqlPortalByEmail, strings.ToLower(n))
}

// CustomerIDsByMobile returns the active customers whose mobile number is mobile, the
// most recently updated first (portal sign-in by SMS). An invalid number finds nobody.
func (s *Service) CustomerIDsByMobile(ctx context.Context, mobile string) ([]int64, error) {
	n, err := cnid.NormalizeMobile(mobile)
	if err != nil || s.prot.keys == nil {
		return nil, nil
	}
	full, _ := s.prot.phoneBlind(n)
	return s.portalIDs(ctx, sqlPortalByMobile, full)
}

func (s *Service) portalIDs(ctx context.Context, query, key string) ([]int64, error) {
	rows, err := s.db.Query(ctx, query, key, StatusActive)
	if err != nil {
		return nil, fmt.Errorf("customer: portal lookup: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("customer: portal lookup: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer: portal lookup: %w", err)
	}
	return ids, nil
}

// PortalIdentity returns the name, address and status of customer id (no authorization,
// no audit: the portal shows a signed-in customer their own name). NotFound when there
// is no such customer.
func (s *Service) PortalIdentity(ctx context.Context, id int64) (PortalIdentity, error) {
	var p PortalIdentity
	err := s.db.QueryRow(ctx, sqlPortalIdentity, id).Scan(&p.ID, &p.Name, &p.Email, &p.Status)
	if err != nil {
		if db.IsNoRows(err) {
			return p, apperr.NotFoundf("thing.customer")
		}
		return p, fmt.Errorf("customer: portal identity: %w", err)
	}
	return p, nil
}
