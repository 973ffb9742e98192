// Package lib is compiled on its own into a package archive sample.
package lib

import "strings"

// Shout returns s upper-cased with an exclamation mark.
func Shout(s string) string {
	return strings.ToUpper(s) + "!"
}

// Sum adds up its arguments.
func Sum(xs ...int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}
