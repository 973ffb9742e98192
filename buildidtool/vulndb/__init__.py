"""Known vulnerabilities of Go binaries, by what they really contain.

- `semver.py`: Go's semantic versions and Go release names as semver.
- `osv.py`: an entry of the Go vulnerability database (OSV) and its ranges.
- `source.py`: where the database comes from (https://vuln.go.dev's protocol,
  a directory in that layout, a directory of OSV files) and its cache.
- `match.py`: a unit's modules and code against the database: findings at the
  symbol, package or module level.

Loaded only by `vulns`, `scan --vulns` and SBOMs with vulnerabilities: nothing
here is on the path of the other commands."""
