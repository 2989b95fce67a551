package openapi

// withActivities inserts the activity operations before the operation that serves this document
// (a placeholder until the capability documents its routes).
func withActivities(ops []Op) []Op { return ops }
