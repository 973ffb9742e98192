"""Structure-blind mutants of real files, from a seeded random generator, so a
run is reproducible and the long run in benchmarks/ draws the same kinds as CI.

Each kind damages a file the way a forensic user's inputs are damaged, without
asking our parsers where the structures are (boundaries are read here with a
few independent struct reads):
  fat-anywhere   a universal header whose slices point anywhere: at the marker,
                 at another format's header spliced into the file, at random bytes
  field          a 32-bit field in the first KiBs set to a special value
  chunk          a chunk of the file copied over its headers
  truncate       the file cut at a structure boundary

and, for the pclntab reader (pclntab_mutate), damage aimed at the table's
structures (found here by its header, read with plain struct reads):
  pcln-count     the function or file count set to a special value (2^31, 2^64-1...)
  pcln-offset    a sub-table offset or the stored text start set to a special value
  pcln-functab   an entry or record offset of the function table
  pcln-record    a field of a function record (name, pc-file, pc-line, CU offset)
  pcln-pctab     a run of 0xff (varints that never end) or 0x00 over the pc tables
  pcln-names     the function names overwritten without a NUL for 128 KiB
  pcln-truncate  the file cut inside the table, at or near a sub-table boundary
"""
from __future__ import annotations

import os
import random
import struct

SPECIAL = [0, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000]
KINDS = ["fat-anywhere", "field", "field", "chunk", "truncate"]
MARKER = b"\xff Go build ID: \""
FIRST_KIBS = 8 * 1024


def boundaries(data: bytes) -> list[int]:
    """Offsets where structures begin or end: headers, tables, commands, notes,
    sections and slices of ELF, Mach-O (thin and universal) and PE files."""
    out = {0, 4, 8, 16, 20, 28, 32, 52, 64, 128, 1024, 4096, len(data) // 2, len(data) - 1}
    n = len(data)

    def u(fmt, off):
        return struct.unpack_from(fmt, data, off) if off + struct.calcsize(fmt) <= n else None

    if data[:4] == b"\x7fELF" and n > 64:
        bo = "<" if data[5] == 1 else ">"
        if data[4] == 2:
            phoff, shoff = u(bo + "QQ", 0x20)
            phnum, = u(bo + "H", 0x38)
            for i in range(min(phnum, 32)):
                ph = u(bo + "IIQQQQ", phoff + 56 * i)
                if ph:
                    out |= {phoff + 56 * i, ph[2], ph[2] + ph[5]}
            out.add(shoff)
        else:
            phoff, shoff = u(bo + "II", 0x1C)
            phnum, = u(bo + "H", 0x2C)
            for i in range(min(phnum, 32)):
                ph = u(bo + "IIIIII", phoff + 32 * i)
                if ph:
                    out |= {phoff + 32 * i, ph[1], ph[1] + ph[4]}
            out.add(shoff)
    elif data[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        count = u(">I", 4)[0]
        wide = data[:4] == b"\xca\xfe\xba\xbf"
        for i in range(min(count, 8)):
            f = u(">QQ", 16 + 32 * i) if wide else u(">II", 16 + 20 * i)
            if f:
                out |= {f[0], f[0] + f[1], f[0] + 28, f[0] + 32}
    elif data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        is64 = data[0] == 0xCF
        ncmds, sizeofcmds = u("<II", 16)
        pos = 32 if is64 else 28
        out |= {pos, pos + sizeofcmds}
        for _ in range(min(ncmds, 64)):
            head = u("<II", pos)
            if not head or head[1] < 8:
                break
            cmd, size = head
            out |= {pos, pos + 8, pos + size}
            if cmd in (0x19, 0x1) and size >= 72:
                seg = u("<16sQQQQiiII" if cmd == 0x19 else "<16sIIIIiiII", pos + 8)
                if seg:
                    out |= {seg[3], seg[3] + seg[4]}
            elif cmd in (0x2, 0x1D, 0xB):  # symtab, code signature, dysymtab: their tables
                f = u("<IIII", pos + 8)
                if f:
                    out |= {f[0], f[0] + f[1]} if cmd == 0x1D else {f[0], f[2], f[2] + f[3]}
            pos += size
    elif data[:2] == b"MZ" and n > 0x40:
        pe = u("<I", 0x3C)[0]
        coff = u("<HHIIIHH", pe + 4)
        if coff:
            out |= {pe, pe + 24}
            table = pe + 24 + coff[5]
            for i in range(min(coff[1], 32)):
                s = u("<8sIIII", table + 40 * i)
                if s:
                    out |= {table + 40 * i, s[4], s[4] + s[3]}
    i = data.find(MARKER, 0, 1 << 16)
    if i >= 0:
        out |= {i, i + len(MARKER), i + 20}
    return sorted(o for o in out if 0 < o < n)


def fat_anywhere(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """A universal header (32- or 64-bit table, 1-3 slices) whose slice offsets
    point at the marker, at another format's header copied into the file, or at
    any offset, with sizes that fit or do not."""
    body = bytearray(data)
    targets = []
    i = body.find(MARKER, 0, 1 << 16)
    if i >= 0:
        targets.append(i)
    other = rng.choice(others)
    at = rng.randrange(64, max(65, len(body) - 64)) & ~0xF
    piece = other[:rng.choice([32, 512, 4096])]
    body[at:at + len(piece)] = piece
    targets.append(at)
    targets.append(rng.randrange(0, len(body)))
    wide = rng.random() < 0.3
    count = rng.randint(1, 3)
    header = bytearray(struct.pack(">II", 0xCAFEBABF if wide else 0xCAFEBABE, count))
    for _ in range(count):
        off = rng.choice(targets)
        size = rng.choice([len(body) - off, 0x1000, 28, len(body), 0xFFFFFFFF])
        cpu = rng.choice([7 | 0x01000000, 12 | 0x01000000, 7, 0x12345])
        header += (struct.pack(">iiQQII", cpu, 3, off, size & 0xFFFFFFFF, 14, 0) if wide
                   else struct.pack(">iiIII", cpu, 3, off, size & 0xFFFFFFFF, 14))
    body[:len(header)] = header
    return bytes(body)


def mutate(rng: random.Random, data: bytes, others: list[bytes], kind: str | None = None) -> tuple[str, bytes]:
    """(kind, mutant). A quarter of the mutants also lose the marker in their
    first 32 KiB, so the Go tool must parse the headers (Mach-O) to answer."""
    kind = kind or rng.choice(KINDS)
    if rng.random() < 0.25:
        i = data.find(MARKER, 0, 32 * 1024)
        if i >= 0:
            data = data[:i + 2] + b"g" + data[i + 3:]
            kind += "+unmarked"
    return _mutate(rng, data, others, kind.split("+")[0], kind)


def _mutate(rng, data, others, base, kind):
    data = bytearray(data)
    if base == "fat-anywhere":
        return kind, fat_anywhere(rng, bytes(data), others)
    if base == "field":
        for _ in range(rng.choice([1, 1, 2, 4])):
            off = rng.randrange(0, max(1, min(len(data), FIRST_KIBS) - 4)) & ~3
            data[off:off + 4] = struct.pack(rng.choice("<>") + "I", rng.choice(SPECIAL))
    elif base == "chunk":
        n = rng.choice([8, 16, 32, 64, 256, 1024])
        src = rng.randrange(0, max(1, len(data) - n))
        dst = rng.randrange(0, min(len(data), 4096))
        data[dst:dst + n] = data[src:src + n]
    elif base == "truncate":
        cut = rng.choice(boundaries(bytes(data)) or [len(data) // 2])
        cut += rng.choice([0, 0, -1, 1])
        del data[max(0, cut):]
    return kind, bytes(data)


def reference_says(reference: str, path: str, timeout: float = 20) -> tuple[int, bytes] | None:
    """(exit status, stdout) of `go tool buildid PATH`, or None when it hangs,
    panics or dies of a runtime error (no behaviour to agree with)."""
    import subprocess
    try:
        p = subprocess.run([reference, path], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode not in (0, 1) or b"panic:" in p.stderr or b"fatal error:" in p.stderr:
        return None
    return p.returncode, p.stdout


def ours_says(path: str) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of our Go-compatible form, run in-process."""
    import io
    import sys
    from buildidtool import gocompat
    out, err = io.BytesIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    wrapper = io.TextIOWrapper(out)
    sys.stdout, sys.stderr = wrapper, err
    try:
        code = gocompat.main([path])
    finally:
        wrapper.flush()
        sys.stdout, sys.stderr = stdout, stderr
    data = out.getvalue()
    wrapper.detach()
    return code, data, err.getvalue().encode()


def rewrite_agrees(reference: str, path: str, timeout: float = 20) -> str | None:
    """Run `-w` of the reference and of ours on two copies of path: None when
    they leave the same bytes with the same exit status (or the reference hangs
    or panics, or the file is universal), else what differs."""
    import shutil
    import subprocess
    from buildidtool import gocompat
    with open(path, "rb") as f:
        if f.read(4) in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
            return None  # a documented difference: ours stamps each slice (docs/commands.md)
    theirs, ours = path + ".ref", path + ".ours"
    shutil.copyfile(path, theirs)
    shutil.copyfile(path, ours)
    try:
        try:
            p = subprocess.run([reference, "-w", theirs], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if p.returncode not in (0, 1) or b"panic:" in p.stderr or b"fatal error:" in p.stderr:
            return None
        import contextlib
        import io
        with contextlib.redirect_stderr(io.StringIO()):
            code = gocompat.main(["-w", ours])
        with open(theirs, "rb") as a, open(ours, "rb") as b:
            same = a.read() == b.read()
        if code != p.returncode or not same:
            return f"-w: reference exit {p.returncode}, ours {code}, bytes {'same' if same else 'DIFFER'}"
        return None
    finally:
        for f in (theirs, ours):
            if os.path.exists(f):
                os.unlink(f)


# --- pclntab mutants -----------------------------------------------------------

PCLN_MAGICS = (0xFFFFFFFB, 0xFFFFFFFA, 0xFFFFFFF0, 0xFFFFFFF1)
PCLN_KINDS = ["pcln-count", "pcln-offset", "pcln-functab", "pcln-record", "pcln-pctab", "pcln-names",
              "pcln-truncate"]
PCLN_SPECIAL = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000]


def pclntab_header(data: bytes) -> tuple[int, str, int, int] | None:
    """(offset, byte order, magic, pointer size) of the first pclntab header in data."""
    for order in "<>":
        for magic in PCLN_MAGICS:
            pat = struct.pack(order + "I", magic) + b"\0\0"
            i = data.find(pat)
            while i >= 0:
                if i + 8 <= len(data) and data[i + 6] in (1, 2, 4) and data[i + 7] in (4, 8):
                    return i, order, magic, data[i + 7]
                i = data.find(pat, i + 1)
    return None


def pclntab_mutate(rng: random.Random, data: bytes, kind: str | None = None) -> tuple[str, bytes]:
    """(kind, mutant) with the damage inside the file's pclntab; the data
    unchanged (kind "no-pclntab") when it has none."""
    found = pclntab_header(data)
    if found is None:
        return "no-pclntab", data
    at, order, magic, ptr = found
    kind = kind or rng.choice(PCLN_KINDS)
    body = bytearray(data)
    word = order + ("Q" if ptr == 8 else "I")
    nwords = {0xFFFFFFFB: 1, 0xFFFFFFFA: 7}.get(magic, 8)  # nfunc, nfiles, [text start], five offsets
    words = [struct.unpack_from(word, data, at + 8 + k * ptr)[0] for k in range(nwords)
             if at + 8 + (k + 1) * ptr <= len(data)]

    def put(off: int, value: int, fmt: str = word) -> None:
        if 0 <= off and off + struct.calcsize(fmt) <= len(body):
            struct.pack_into(fmt, body, off, value & ((1 << (8 * struct.calcsize(fmt))) - 1))

    relative = magic in (0xFFFFFFF0, 0xFFFFFFF1)
    fs = 4 if relative else ptr
    if len(words) == nwords and nwords > 1:  # the offsets of names, pc tables, function table
        names, pctab, functab = (at + words[k] for k in (nwords - 5, nwords - 2, nwords - 1))
    else:
        names = pctab = functab = at + 8 + ptr
    nfunc = words[0] if words else 0
    if kind == "pcln-count":
        put(at + 8 + ptr * rng.choice([0, 0, 1]), rng.choice(PCLN_SPECIAL))
    elif kind == "pcln-offset":
        put(at + 8 + ptr * rng.randrange(1, max(2, nwords)), rng.choice(PCLN_SPECIAL + [len(data), 8 + 8 * ptr]))
    elif kind == "pcln-functab":
        i = rng.randrange(0, max(1, 2 * min(nfunc, 1 << 16) + 1))
        put(functab + i * fs, rng.choice(PCLN_SPECIAL), order + ("I" if fs == 4 else "Q"))
    elif kind == "pcln-record":
        i = rng.randrange(0, max(1, min(nfunc, 1 << 16)))
        off_at = functab + (2 * i + 1) * fs
        if off_at + fs <= len(data):
            rec = struct.unpack_from(order + ("I" if fs == 4 else "Q"), data, off_at)[0]
            base = functab if magic != 0xFFFFFFFB else at
            field = (4 if relative else ptr) + 4 * rng.choice([0, 4, 5, 7])  # name, pcfile, pcln, CU
            put(base + rec + field, rng.choice(PCLN_SPECIAL), order + "I")
    elif kind == "pcln-pctab":
        start = rng.randrange(pctab, max(pctab + 1, min(len(body), functab)))
        n = rng.choice([16, 4096, 65536])
        body[start:start + n] = bytes([rng.choice([0xFF, 0x00, 0x80])]) * len(body[start:start + n])
    elif kind == "pcln-names":
        n = min(128 * 1024, max(0, len(body) - names))
        body[names:names + n] = b"A" * n
    else:
        cut = rng.choice([at + 8, at + 8 + ptr * nwords, names, pctab, functab, functab + 4 * fs,
                          (functab + len(data)) // 2]) + rng.choice([0, 0, -1, 1, 3])
        del body[max(0, min(cut, len(body))):]
    return kind, bytes(body)
