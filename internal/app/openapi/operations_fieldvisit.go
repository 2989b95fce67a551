package openapi

// withFieldVisits inserts the fieldvisit operations before the operation that serves this document
// (a placeholder until the capability documents its routes).
func withFieldVisits(ops []Op) []Op { return ops }
