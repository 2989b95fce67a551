// Package archtest guards the import direction of DESIGN.md:
//
//	cmd -> cli -> app -> capabilities -> platform
//
// It reads the import lines of every non-test Go file in the module (go/parser, no
// extra dependencies) and fails on an import that points the wrong way:
//
//   - cmd/... imports nothing of the module but internal/cli;
//   - internal/platform/... imports only other platform packages and internal/config
//     (platform is infrastructure with no domain knowledge);
//   - internal/config imports only platform packages;
//   - a capability never imports internal/app or internal/cli, and imports other
//     capabilities only further down capabilityOrder (e.g. complaint -> ticket ->
//     customer); anything that would point upward travels as an event;
//   - internal/app never imports internal/cli; nothing imports cmd/.
//
// Test files are not checked: a capability's HTTP tests drive the real router through
// internal/app/apptest on purpose.
package archtest
