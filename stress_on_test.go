//go:build stress

package futures_test

// stress is set by `make stress` (the stress build tag): the reliability
// tests then run at full size.
const stress = true
