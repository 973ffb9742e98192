"""The kinds of file, one vocabulary for every layer.

`sniff` names the container from its first bytes; a reader's Found.format
names what it found inside, which differs only for ar archives: an `ar`
container is a `go-archive` (Go's package archive, with __.PKGDEF), a
`gccgo-archive` (gccgo's, with a _buildid.o member) or `unknown` (any other ar
archive). A record keeps the container's name (`ar`) only when the reader
failed before it could tell which."""
from __future__ import annotations

# Thin executables and objects: each answers image() (sections, segments,
# reading by address) and may carry build info.
THIN = ("elf", "macho", "pe", "xcoff", "plan9", "wasm")
UNIVERSAL = "macho-fat"
# Where build info can be: the thin kinds and the universal Mach-O (each slice).
EXECUTABLES = THIN + (UNIVERSAL,)
# Package archives: a build ID, never build info.
PACKAGE_ARCHIVES = ("go-archive", "gccgo-archive", "aix-big-archive")
# The container each Found.format is read from, where the two names differ.
CONTAINER = {"go-archive": "ar", "gccgo-archive": "ar"}
# Where a Go version can be recovered without build info (goversion).
RECOVERABLE = ("elf", "macho", "pe")
