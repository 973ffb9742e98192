"""Limits on what one input may make us read, and the budget that enforces them.

Every byte that comes out of a decompressor (zip's inflater included) is
counted against the input that led to it (nested archives included), so a
zip bomb, a nesting bomb or a tar with a petabyte of zeros stops at a limit
with an error that names it, instead of running for ever."""
from __future__ import annotations

GiB = 1 << 30
MiB = 1 << 20


class Limits:
    """How far looking inside may go (a plain class: scan imports it on every run,
    and dataclasses would cost more than the rest of a small scan's imports)."""

    __slots__ = ("max_depth", "max_member_size", "max_total_size", "max_ratio", "ratio_floor",
                 "max_members", "memory_spool", "all_layers", "platform")

    def __init__(self, max_depth: int = 4, max_member_size: int = 4 * GiB, max_total_size: int = 16 * GiB,
                 max_ratio: float = 250.0, ratio_floor: int = 64 * MiB, max_members: int = 1_000_000,
                 memory_spool: int = 64 * MiB, all_layers: bool = False, platform: str | None = None):
        self.max_depth = max_depth              # archives inside archives (the outermost is depth 1)
        self.max_member_size = max_member_size  # one member, uncompressed
        self.max_total_size = max_total_size    # everything read out of one input, all levels
        self.max_ratio = max_ratio              # bytes produced / bytes of the input file
        self.ratio_floor = ratio_floor          # the ratio is judged only once this much was produced
        self.max_members = max_members          # members of one input, all levels
        self.memory_spool = memory_spool        # members up to this size spool to memory, larger to a temp file
        self.all_layers = all_layers            # images: every layer's files, not the squashed file system
        # images with several platforms: OS/ARCH[/VARIANT], "all", or a digest naming one
        # image; None: $BUILDID_PLATFORM or the machine's own (archives/platforms.py)
        self.platform = platform

    # The command-line flag that sets each limit, for error messages.
    FLAGS = {"max_depth": "--max-depth", "max_member_size": "--max-member-size",
             "max_total_size": "--max-total-size", "max_ratio": "--max-ratio",
             "max_members": "--max-members"}


_UNITS = {"": 1, "K": 1 << 10, "M": MiB, "G": GiB, "T": 1 << 40}


def parse_size(text: str) -> int:
    """`4G`, `512M`, `100000` (bytes; K, M, G, T are powers of 1024; a trailing B or iB is allowed)."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    number = t[:-1] if unit else t
    try:
        value = int(float(number) * _UNITS[unit])
    except ValueError:
        raise ValueError(f"{text!r} is not a size (like 4G, 512M or a number of bytes)") from None
    if value < 1:
        raise ValueError(f"{text!r}: a size must be at least one byte")
    return value


class LimitExceeded(Exception):
    def __init__(self, field: str, value, what: str):
        flag = Limits.FLAGS[field]
        super().__init__(f"{what} exceeds {flag} {_human(value)}")
        self.field = field


# What the archive readers themselves may hold in memory for one input, apart
# from member data (which streams, or is spooled to a memfd or a temporary
# file): headers, names, sparse maps, a zip's central directory, an image's
# file list, the names seen for duplicates. Each is charged before it is
# allocated, so an archive that would need more stops with an error instead of
# growing the worker. With the interpreter and the buffers this keeps a worker
# under WORKER_RSS, the figure the README documents and the hostile tests hold.
READER_MEMORY = 128 * MiB
WORKER_RSS = 256 * MiB
# Extension headers before one tar member (pax records, GNU long names, a
# sparse map), all together: Go's archive/tar refuses any one past 1 MiB.
MAX_HEADER = 1 * MiB
# Global pax headers of one tar, all together: they are copied into every
# member's header, so their size multiplies by the member count.
MAX_GLOBAL_HEADERS = 16 * 1024
# Sparse map entries of one member: what 1 MiB of GNU extension blocks holds
# (21 per 512-byte block); each costs about 200 bytes in tarfile's maps.
MAX_SPARSE_ENTRIES = MAX_HEADER // 512 * 21


class OverMemoryBound(LimitExceeded):
    """A structure of the archive would take more memory than the readers may hold."""

    def __init__(self, what: str, bound):
        shown = bound if isinstance(bound, str) else _human(bound)
        Exception.__init__(self, f"{what} exceeds the archive reader's memory bound ({shown})")
        self.field = "memory"


def _human(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and v >= MiB and v % MiB == 0:
        return f"{v // GiB} GiB" if v % GiB == 0 else f"{v // MiB} MiB"
    return str(v)


class Budget:
    """What one top-level input has used so far."""

    __slots__ = ("limits", "input_size", "produced", "members", "target", "spool_all", "held")

    def __init__(self, limits: Limits, input_size: int):
        self.limits = limits
        self.input_size = max(1, input_size)
        self.produced = 0
        self.members = 0
        self.target: str | None = None  # a member path being opened: only its way is read
        self.spool_all = False  # spool every member, not only those the formats layer can use
        self.held = 0  # bytes the readers hold for this input's structures (READER_MEMORY)

    def count(self, n: int) -> None:
        self.produced += n
        lim = self.limits
        if self.produced > lim.max_total_size:
            raise LimitExceeded("max_total_size", lim.max_total_size, "uncompressed data")
        if self.produced > lim.ratio_floor and self.produced / self.input_size > lim.max_ratio:
            raise LimitExceeded("max_ratio", lim.max_ratio,
                                f"expansion ratio {self.produced / self.input_size:.0f}")

    def hold(self, n: int, what: str) -> None:
        """The readers are about to keep about n more bytes of `what` for this input."""
        self.held += n
        if self.held > READER_MEMORY:
            raise OverMemoryBound(what, READER_MEMORY)

    def release(self, n: int) -> None:
        self.held -= n

    def member(self, size: int) -> None:
        """A member is about to be read: its declared size and the member count."""
        self.members += 1
        lim = self.limits
        if self.members > lim.max_members:
            raise LimitExceeded("max_members", lim.max_members, "member count")
        if size > lim.max_member_size:
            raise LimitExceeded("max_member_size", lim.max_member_size, f"member size {size}")
