package openapi

// withSurveys inserts the survey operations before the operation that serves this document
// (a placeholder until the capability documents its routes).
func withSurveys(ops []Op) []Op { return ops }
