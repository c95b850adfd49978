//go:build !race

package rag

const raceEnabled = false
