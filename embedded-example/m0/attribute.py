#!/usr/bin/env python3
"""Where the core's flash goes: .text bytes of two ELFs by source, from their DWARF line tables.

    python3 attribute.py CORE.elf STUB.elf

Both built with line tables (CARGO_PROFILE_RELEASE_DEBUG=line-tables-only; the README shows how).
Every instruction is counted for the source file its line-table row names, so code that link-time
optimisation inlined into the application counts for the crate it came from. Prints, per group, the
bytes in each ELF and the difference (core minus stub). Needs llvm-dwarfdump (rustup's llvm-tools or
the llvm package). Only .text has line rows; .rodata is compared with `llvm-size -A`.
"""
import collections
import re
import subprocess
import sys


def text_by_file(elf):
    info = subprocess.run(["llvm-dwarfdump", "--debug-info", elf], capture_output=True, text=True, check=True).stdout
    comp, stmt = {}, None
    for line in info.splitlines():
        m = re.search(r"DW_AT_stmt_list\s+\((0x[0-9a-f]+)\)", line)
        if m:
            stmt = int(m.group(1), 16)
        m = re.search(r'DW_AT_comp_dir\s+\("(.*)"\)', line)
        if m and stmt is not None:
            comp[stmt], stmt = m.group(1), None
    out = subprocess.run(["llvm-dwarfdump", "--debug-line", elf], capture_output=True, text=True, check=True).stdout
    rows, files, dirs, cd, index, name = [], {}, {}, "?", None, None
    for line in out.splitlines():
        m = re.match(r"debug_line\[(0x[0-9a-f]+)\]", line)
        if m:
            cd = comp.get(int(m.group(1), 16), "?")
            files, dirs = {}, {0: cd}
            continue
        m = re.match(r'include_directories\[\s*(\d+)\] = "(.*)"', line)
        if m:
            d = m.group(2)
            dirs[int(m.group(1))] = d if d.startswith("/") else cd + "/" + d
            continue
        m = re.match(r"file_names\[\s*(\d+)\]:", line)
        if m:
            index = int(m.group(1))
            continue
        m = re.match(r'\s+name: "(.*)"', line)
        if m:
            name = m.group(1)
            continue
        m = re.match(r"\s+dir_index: (\d+)", line)
        if m:
            files[index] = name if name.startswith("/") else dirs.get(int(m.group(1)), "?") + "/" + name
            continue
        m = re.match(r"0x([0-9a-f]{16})\s+\d+\s+\d+\s+(\d+)\s+\d+\s+\d+\s*(.*)", line)
        if m:
            rows.append((int(m.group(1), 16), files.get(int(m.group(2)), "?"), "end_sequence" in m.group(3)))
    sizes = collections.Counter()
    for (addr, f, end), (next_addr, _, _) in zip(rows, rows[1:]):
        if not end:
            sizes[f] += next_addr - addr
    return sizes


def group(path):
    if "/embedded-example/m0/src/" in path:
        return "the firmware's own code"
    m = re.search(r"/work/[^/]+/src/([^/.]+)", path)
    if m and "/embedded-example/" not in path:
        return "core: " + m.group(1)
    m = re.search(r"registry/src/[^/]+/([^/]+)/", path)
    if m:
        return "dependency: " + re.sub(r"-[0-9.]+$", "", m.group(1))
    m = re.search(r"library/(core|compiler-builtins)/(?:compiler-builtins/)?src/([^/.]+)", path)
    if m:
        return "Rust library: " + m.group(1) + "::" + m.group(2)
    return "other"


def main():
    core, stub = (collections.Counter(), collections.Counter())
    for elf, counter in ((sys.argv[1], core), (sys.argv[2], stub)):
        for f, n in text_by_file(elf).items():
            counter[group(f)] += n
    print(f"{'core':>7} {'stub':>7} {'diff':>7}  .text by source")
    for k in sorted(set(core) | set(stub), key=lambda k: -(core[k] - stub[k])):
        print(f"{core[k]:7d} {stub[k]:7d} {core[k] - stub[k]:7d}  {k}")
    print(f"{sum(core.values()):7d} {sum(stub.values()):7d} {sum(core.values()) - sum(stub.values()):7d}  total")


if __name__ == "__main__":
    main()
