// Package archtest holds repository-wide tests of whet's architecture rules
// (STYLE.md habit 13): the engine packages import only the standard library
// and the few modules the design allows, and imports flow one way.
package archtest
