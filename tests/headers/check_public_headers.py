#!/usr/bin/env python3
"""The public headers (driver/include/vlab/*.h) next to other projects' headers.

    check_public_headers.py SOURCE_DIR CC

1. Lists every name the headers define at file scope (macros, struct/union/
   enum tags, enumerators, typedefs, functions) and fails on one without the
   project prefix (vlab_ / VLAB_) unless tests/headers/unprefixed-known.txt
   lists it; a listed name the headers no longer define fails too, so the
   list only shrinks.
2. Compiles a C file that includes every public header together with Linux's
   virtio headers (linux-libc-dev), in both orders, with CC -Wall -Wextra:
   every diagnostic must be a redefinition of a listed name.
3. Every compiler attribute in a public header is behind a fallback macro
   (only VLAB_PRINTF_LIKE's definition spells __attribute__).
Prints one line per problem; exit 1 if any, 77 when the Linux headers are
missing (skipped).
"""
import os
import re
import subprocess
import sys
import tempfile

LINUX = ["linux/virtio_ring.h", "linux/virtio_config.h", "linux/virtio_ids.h",
         "linux/virtio_pci.h", "linux/virtio_mmio.h", "linux/virtio_blk.h",
         "linux/virtio_net.h", "linux/virtio_rng.h"]
KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "defined", "__attribute__",
            "VLAB_PRINTF_LIKE"}


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = text.replace("\\\n", " ")  # a macro's continued lines as one
    # C++ linkage blocks: their braces are not a scope.
    return re.sub(r"#\s*ifdef\s+__cplusplus.*?#\s*endif", " ", text, flags=re.S)


def names(text):
    out = set()
    body = []
    for line in text.split("\n"):
        m = re.match(r"\s*#\s*define\s+(\w+)", line)
        if m:
            out.add(m.group(1))
        if not re.match(r"\s*#", line):
            body.append(line)
    code = "\n".join(body)
    for m in re.finditer(r"\b(struct|union|enum)\s+(\w+)\s*\{", code):
        out.add(m.group(2))
    for m in re.finditer(r"\benum\s*\w*\s*\{([^}]*)\}", code):
        for item in m.group(1).split(","):
            mm = re.match(r"\s*(\w+)", item)
            if mm:
                out.add(mm.group(1))
    for m in re.finditer(r"\btypedef\b([^;]*);", code):
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", m.group(1))  # a function pointer type
        out.add(fp.group(1) if fp else re.findall(r"\w+", re.sub(r"\[[^]]*\]", "", m.group(1)))[-1])
    # Functions: identifiers followed by '(' at brace depth 0.
    depth = 0
    flat = []
    for ch in code:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            flat.append(ch)
    for m in re.finditer(r"\b(\w+)\s*\((?!\s*\*)", "".join(flat)):
        if m.group(1) not in KEYWORDS:
            out.add(m.group(1))
    return out


def main():
    src, cc = sys.argv[1], sys.argv[2]
    inc = os.path.join(src, "driver", "include")
    hdrs = sorted(f for f in os.listdir(os.path.join(inc, "vlab")) if f.endswith(".h"))
    known_path = os.path.join(src, "tests", "headers", "unprefixed-known.txt")
    known = set()
    with open(known_path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                known.add(line)
    bad = []
    found = set()
    for h in hdrs:
        path = os.path.join(inc, "vlab", h)
        raw = open(path).read()
        text = strip(raw)
        for n in sorted(names(text)):
            if n.lower().startswith("vlab_") or n in ("extern",):
                continue
            found.add(n)
            if n not in known:
                bad.append(f"driver/include/vlab/{h}: '{n}' has no vlab_/VLAB_ prefix")
        for i, line in enumerate(strip(raw).split("\n"), 1):
            if "__attribute__" in line and "define VLAB_PRINTF_LIKE" not in line:
                bad.append(f"driver/include/vlab/{h}:{i}: a compiler attribute without a fallback macro")
    for n in sorted(known - found):
        bad.append(f"tests/headers/unprefixed-known.txt: '{n}' is no longer defined: remove it")

    if not all(os.path.exists(os.path.join("/usr/include", h)) for h in LINUX):
        for b in bad:
            print(b)
        print("check_public_headers: Linux's virtio headers missing (linux-libc-dev): clash check skipped")
        return 1 if bad else 77
    ours = [f'#include "vlab/{h}"' for h in hdrs]
    theirs = [f"#include <{h}>" for h in LINUX]
    with tempfile.TemporaryDirectory() as tmp:
        for order, lines in (("linux first", theirs + ours), ("vlab first", ours + theirs)):
            c = os.path.join(tmp, "clash.c")
            with open(c, "w") as f:
                f.write("\n".join(lines) + "\nint main(void) { return 0; }\n")
            r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-fsyntax-only", "-I", inc, c],
                               capture_output=True, text=True)
            for line in r.stderr.splitlines():
                m = re.search(r'(?:warning|error): ["\']?(\w+)["\']? (?:macro )?redefined', line)
                if m and m.group(1) in known:
                    continue
                if re.search(r"(warning|error):", line):
                    bad.append(f"{order}: {line.strip()}")
            if r.returncode != 0 and not bad:
                bad.append(f"{order}: {cc} failed: {r.stderr.strip()[:300]}")
    for b in bad:
        print(b)
    print(f"check_public_headers: {len(hdrs)} headers, {len(found)} unprefixed names (all listed as known "
          f"debt)" if not bad else f"check_public_headers: {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
