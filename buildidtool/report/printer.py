"""Prints a per-file command's results in the form asked for: text lines,
JSON lines or CSV (scan streams its own, report.scan)."""
from __future__ import annotations


class Printer:
    def __init__(self, command: str, form: str, write, terminal: bool = False):
        self.command, self.form, self.write, self.terminal = command, form, write, terminal
        self.header_done = False

    def result(self, obj, lines=None) -> None:
        """A result (or an error record); `lines()` gives its text form."""
        if self.form == "text":
            if lines is not None:
                for line in lines():
                    self.write(line + "\n")
        elif isinstance(obj, list):  # hash: a record per unit
            for item in obj:
                self.result(item)
        elif self.form == "json":
            if self.command == "symbols" and hasattr(obj, "units"):
                from .symbols import json_line  # the function list written directly (report/symbols.py)
            else:
                from .records import json_line  # json: 3 ms, only for --json
            self.write(json_line(obj) + "\n")
        else:
            from .table import csv_text  # csv: 1 ms, only for --csv
            self.write(csv_text(self.command, [obj], not self.header_done, self.terminal))
            self.header_done = True
