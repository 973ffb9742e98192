// gosym_oracle prints what Go's debug/gosym reads from a binary's pclntab:
// every function's name, entry, end, and the file and line of its entry, and
// the file table, as one JSON object. It finds the table the way Go's own
// tools do (cmd/internal/objfile: section names, else the runtime.pclntab
// symbols; runtime.text, else the text section, for the text start), so it
// reads exactly what gosym can read by itself. With -at OFFSET:SIZE and
// -text ADDR it decodes those bytes of the file instead, which lets the tests
// hold our decoding to gosym's where gosym cannot find the table.
//
// The tests build it with the toolchain under test; benchmarks/symbols.py
// times it against `buildid symbols --json`.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"debug/plan9obj"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type function struct {
	Name  string `json:"name"`
	Entry uint64 `json:"entry"`
	End   uint64 `json:"end"`
	File  string `json:"file"`
	Line  int    `json:"line"`
}

// Where the text start came from: "symbol" (runtime.text) or "section" (the
// text section's start, which is not runtime.text when a C linker put its
// own code first).
var textFrom = "section"

type result struct {
	Found     bool       `json:"found"`
	Error     string     `json:"error,omitempty"`
	How       string     `json:"how,omitempty"`
	TextStart uint64     `json:"text_start"`
	TextFrom  string     `json:"text_from,omitempty"`
	Size      int        `json:"size"`
	Functions []function `json:"functions"`
	Files     []string   `json:"files"`
}

func main() {
	at := flag.String("at", "", "OFFSET:SIZE of the pclntab in the file (decimal or 0x hex)")
	text := flag.String("text", "", "text start address to use with -at")
	noFiles := flag.Bool("no-files", false, "leave the file table out")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gosym_oracle [-at OFFSET:SIZE -text ADDR] FILE")
		os.Exit(2)
	}
	var res result
	var data []byte
	var textStart uint64
	var err error
	if *at != "" {
		data, textStart, err = explicit(flag.Arg(0), *at, *text)
		res.How = "explicit"
	} else {
		data, textStart, res.How, err = locate(flag.Arg(0))
	}
	if err != nil {
		res.Error = err.Error()
	} else if data != nil {
		decode(&res, data, textStart, !*noFiles)
		res.TextFrom = textFrom
		if *at != "" {
			res.TextFrom = "explicit"
		}
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w.Flush()
}

func decode(res *result, data []byte, textStart uint64, files bool) {
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, textStart))
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.Found, res.TextStart, res.Size = true, textStart, len(data)
	res.Functions = make([]function, len(tab.Funcs))
	for i := range tab.Funcs {
		f := &tab.Funcs[i]
		file, line, _ := tab.PCToLine(f.Entry)
		res.Functions[i] = function{f.Name, f.Entry, f.End, file, line}
	}
	if files {
		res.Files = make([]string, 0, len(tab.Files))
		for name := range tab.Files {
			res.Files = append(res.Files, name)
		}
		sort.Strings(res.Files)
	}
}

func number(s string) (uint64, error) {
	return strconv.ParseUint(strings.TrimSpace(s), 0, 64)
}

func explicit(path, at, text string) ([]byte, uint64, error) {
	off, size, ok := strings.Cut(at, ":")
	if !ok {
		return nil, 0, errors.New("-at wants OFFSET:SIZE")
	}
	o, err := number(off)
	if err != nil {
		return nil, 0, err
	}
	n, err := number(size)
	if err != nil {
		return nil, 0, err
	}
	t, err := number(text)
	if err != nil {
		return nil, 0, fmt.Errorf("-text: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data := make([]byte, n)
	if _, err := f.ReadAt(data, int64(o)); err != nil {
		return nil, 0, err
	}
	return data, t, nil
}

// locate finds the table and the text start as cmd/internal/objfile does.
func locate(path string) ([]byte, uint64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, "", err
	}
	defer f.Close()
	if e, err := elf.NewFile(f); err == nil {
		return fromELF(e)
	}
	if m, err := macho.NewFile(f); err == nil {
		return fromMachO(m)
	}
	if p, err := pe.NewFile(f); err == nil {
		return fromPE(p)
	}
	if p, err := plan9obj.NewFile(f); err == nil {
		return fromPlan9(p)
	}
	return nil, 0, "", nil
}

func fromELF(f *elf.File) ([]byte, uint64, string, error) {
	var text uint64
	if s := f.Section(".text"); s != nil {
		text = s.Addr
	}
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Name == "runtime.text" {
			text, textFrom = s.Value, "symbol"
			break
		}
	}
	for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if s := f.Section(name); s != nil {
			data, err := s.Data()
			return data, text, "section " + name, err
		}
	}
	var addr, end uint64
	for _, s := range syms {
		switch s.Name {
		case "runtime.pclntab":
			addr = s.Value
		case "runtime.epclntab":
			end = s.Value
		}
	}
	if addr == 0 || end < addr {
		return nil, text, "", nil
	}
	for _, p := range f.Progs {
		if p.Vaddr <= addr && end <= p.Vaddr+p.Filesz {
			data := make([]byte, end-addr)
			if _, err := p.ReadAt(data, int64(addr-p.Vaddr)); err != nil {
				return nil, text, "", err
			}
			return data, text, "symbols", nil
		}
	}
	return nil, text, "", nil
}

func fromMachO(f *macho.File) ([]byte, uint64, string, error) {
	var text uint64
	if s := f.Section("__text"); s != nil {
		text = s.Addr
	}
	if f.Symtab != nil {
		for _, s := range f.Symtab.Syms {
			if s.Name == "runtime.text" || s.Name == "_runtime.text" {
				text, textFrom = s.Value, "symbol"
				break
			}
		}
	}
	s := f.Section("__gopclntab")
	if s == nil {
		return nil, text, "", nil
	}
	data, err := s.Data()
	return data, text, "section __gopclntab", err
}

func fromPE(f *pe.File) ([]byte, uint64, string, error) {
	var base uint64
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		base = uint64(oh.ImageBase)
	case *pe.OptionalHeader64:
		base = oh.ImageBase
	}
	var text uint64
	if s := f.Section(".text"); s != nil {
		text = base + uint64(s.VirtualAddress)
	}
	find := func(name string) *pe.Symbol {
		for _, s := range f.Symbols {
			if s.Name == name && s.SectionNumber > 0 && int(s.SectionNumber) <= len(f.Sections) {
				return s
			}
		}
		return nil
	}
	if s := find("runtime.text"); s != nil {
		text = base + uint64(f.Sections[s.SectionNumber-1].VirtualAddress) + uint64(s.Value)
		textFrom = "symbol"
	}
	start, end := find("runtime.pclntab"), find("runtime.epclntab")
	if start == nil || end == nil || start.SectionNumber != end.SectionNumber || end.Value < start.Value {
		return nil, text, "", nil
	}
	data, err := f.Sections[start.SectionNumber-1].Data()
	if err != nil {
		return nil, text, "", err
	}
	if int(end.Value) > len(data) {
		return nil, text, "", errors.New("runtime.epclntab past its section")
	}
	return data[start.Value:end.Value], text, "symbols", nil
}

func fromPlan9(f *plan9obj.File) ([]byte, uint64, string, error) {
	text := f.LoadAddress + f.HdrSize
	syms, err := f.Symbols()
	if err != nil {
		return nil, text, "", nil
	}
	var start, end *plan9obj.Sym
	for i := range syms {
		switch syms[i].Name {
		case "runtime.pclntab":
			start = &syms[i]
		case "runtime.epclntab":
			end = &syms[i]
		case "runtime.text":
			text, textFrom = syms[i].Value, "symbol"
		}
	}
	if start == nil || end == nil || end.Value < start.Value {
		return nil, text, "", nil
	}
	s := f.Section("text")
	if s == nil {
		return nil, text, "", nil
	}
	data, err := io.ReadAll(io.NewSectionReader(s, 0, int64(s.Size)))
	if err != nil {
		return nil, text, "", err
	}
	textStart := f.LoadAddress + f.HdrSize
	lo, hi := start.Value-textStart, end.Value-textStart
	if hi > uint64(len(data)) {
		return nil, text, "", errors.New("runtime.epclntab past the text section")
	}
	return data[lo:hi], text, "symbols", nil
}
