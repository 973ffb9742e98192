"""The report layer: every shape a result is shown in, and nothing else.

    records.py    JSON: a result's to_json() as one line, the file-name rule,
                  each command's error record, scan's fast JSON writer
    text.py       the lines each command prints for a human; the error line
    table.py      CSV columns and rows of every command
    printer.py    read/hash/rewrite/verify/info/diff: text, JSON or CSV per file
    scan.py       scan's streaming formats, its tally and progress counter
    symbols.py    symbols: text lines, its JSON line written directly, a CSV row per function
    cyclonedx.py  scan --format cyclonedx-json (cyclonedx-python-lib)
    spdx.py       scan --format spdx-json

Results come in as objects with to_json() or as records (dicts with the same
keys); what comes out is text for the CLI to write. Nothing here imports
click, and nothing is imported by this file, so `scan` loads only what its
format needs."""
