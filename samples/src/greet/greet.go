// Package greet is served from a local module proxy at v1.2.0.
package greet

// Hello returns a greeting for name.
func Hello(name string) string {
	return "hello, " + name
}
