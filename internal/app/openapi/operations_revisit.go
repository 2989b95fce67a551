package openapi

// withRevisits inserts the revisit operations before the operation that serves this document
// (a placeholder until the capability documents its routes).
func withRevisits(ops []Op) []Op { return ops }
