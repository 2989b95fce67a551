//go:build race

package app_test

// raceBuild: the race detector slows the property test about fourfold; it runs fewer
// scenarios then (the plain run covers the full number).
const raceBuild = true
