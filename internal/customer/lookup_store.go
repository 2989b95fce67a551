package customer

import (
	"context"
	"fmt"
)

// SQL of the caller lookup (lookup.go).
const (
	// sqlCallerIDs finds active customers by a whole phone number's blind index: their
	// own mobile or phone, or a contact's (indexes customers_mobile_bidx,
	// customers_phone_bidx, customer_contacts_mobile_bidx, customer_contacts_phone_bidx).
	sqlCallerIDs = `SELECT id FROM customers WHERE status = ? AND id IN (
		SELECT id FROM customers WHERE mobile_bidx = ?
		UNION SELECT id FROM customers WHERE phone_bidx = ?
		UNION SELECT customer_id FROM customer_contacts WHERE mobile_bidx = ?
		UNION SELECT customer_id FROM customer_contacts WHERE phone_bidx = ?)
		ORDER BY updated_at DESC, id DESC LIMIT ?`
	sqlLookupGrantAdd = `INSERT INTO customer_lookup_grants (staff_id, customer_id, expires_at, created_at) VALUES (?, ?, ?, ?)`
	sqlLookupGrantHas = `SELECT COUNT(*) FROM (SELECT 1 FROM customer_lookup_grants
		WHERE staff_id = ? AND customer_id = ? AND expires_at > ? LIMIT 1) g`
	sqlLookupGrantPrune = `DELETE FROM customer_lookup_grants WHERE expires_at <= ?`
)

// CallerIDs returns up to limit active customers reached by the phone blind index key.
func (s *Store) CallerIDs(ctx context.Context, key string, limit int) ([]int64, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.d.Query(ctx, sqlCallerIDs, StatusActive, key, key, key, key, limit)
	if err != nil {
		return nil, fmt.Errorf("customer: caller lookup: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("customer: caller lookup: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer: caller lookup: %w", err)
	}
	return ids, nil
}

// AddLookupGrant lets staff member staffID open requests for customerID until until.
func (s *Store) AddLookupGrant(ctx context.Context, staffID, customerID, until, now int64) error {
	if _, err := s.d.Exec(ctx, sqlLookupGrantAdd, staffID, customerID, until, now); err != nil {
		return fmt.Errorf("customer: lookup grant: %w", err)
	}
	return nil
}

// HasLookupGrant reports whether staffID holds a grant for customerID unexpired at now.
func (s *Store) HasLookupGrant(ctx context.Context, staffID, customerID, now int64) (bool, error) {
	var n int
	if err := s.d.QueryRow(ctx, sqlLookupGrantHas, staffID, customerID, now).Scan(&n); err != nil {
		return false, fmt.Errorf("customer: lookup grant: %w", err)
	}
	return n > 0, nil
}

// PruneLookupGrants deletes the grants expired at now.
func (s *Store) PruneLookupGrants(ctx context.Context, now int64) error {
	if _, err := s.d.Exec(ctx, sqlLookupGrantPrune, now); err != nil {
		return fmt.Errorf("customer: prune lookup grants: %w", err)
	}
	return nil
}
