//go:build !race

package app_test

const raceBuild = false
