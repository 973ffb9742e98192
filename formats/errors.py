"""The one exception type format parsers raise.

Parsers know nothing about file names; buildidtool.errors turns a FormatError
into an error that names the file, in one place.
"""


class FormatError(Exception):
    """The bytes do not follow the container's rules (truncated, out of range...)."""
