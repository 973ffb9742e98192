"""Known vulnerabilities of Go binaries, by what they really contain.

- `semver.py`: Go's semantic versions and Go release names as semver.
- `osv.py`: an entry of the Go vulnerability database (OSV) and its ranges.
- `database.py`: the index and the entries as the matcher asks them, and the
  reading of the protocol's files (JSON, OSV, gzip; bounded).
- `source.py`: where the database comes from (https://vuln.go.dev's protocol,
  a directory in that layout, a directory of OSV files): `open_database`.
- `remote.py`: the database over HTTP and its cache (imported only for a URL).
- `match.py`: a unit's modules and code against the database: findings at the
  symbol, package or module level.

Loaded only by `vulns`, `scan --vulns` and SBOMs with vulnerabilities: nothing
here is on the path of the other commands."""
