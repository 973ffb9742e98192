// Package local is pulled into modapp through a directory replace.
package local

// Name is who modapp greets.
func Name() string {
	return "local module"
}
