#!/usr/bin/env python3
"""Run the lines U-Boot was given (a transcript of capture_shell.py) through
vlab as one script, and compare vlab's answer to each line with U-Boot's.

usage: compare_shell.py VLAB TRANSCRIPT DIFFERENCES

DIFFERENCES lists the deliberate differences (docs/vlab.md says why): a
"=> " line typed, then vlab's expected answer, each line prefixed "| ".
Every other line must get U-Boot's answer, line for line.  Exits 1 on the
first mismatch, or when a listed difference is no longer one.
"""
import subprocess
import sys

MARK = "@@vlab-compare@@"


def blocks(path):
    """[(typed lines, output lines)] of a transcript."""
    out = []
    for line in open(path).read().split("\n"):
        if line.startswith("=> "):
            out.append(([line[3:]], []))
        elif line.startswith("> ") and out and not out[-1][1]:
            out[-1][0].append(line[2:])
        elif out:
            out[-1][1].append(line)
    if out and out[-1][0] == [""]:
        out.pop()  # the last, empty prompt
    return out


def differences(path):
    diff, key = {}, None
    for line in open(path).read().split("\n"):
        if line.startswith("=> "):
            key = line[3:]
            diff[key] = []
        elif line.startswith("| ") or line == "|":
            diff[key].append(line[2:])
    return diff


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    vlab, transcript, diff_path = sys.argv[1:]
    bl = blocks(transcript)
    diff = differences(diff_path)
    # After each block a marker line that keeps $? (test gives back 0 or 1).
    script = "".join("\n".join(typed) + "\n__st=$?; echo " + MARK + "; test $__st = 0\n"
                     for typed, _ in bl)
    run = subprocess.run([vlab], input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=60)
    answers = run.stdout.split(MARK + "\n")
    if len(answers) != len(bl) + 1:
        sys.exit("FAIL: vlab answered %d blocks of %d:\n%s" % (len(answers) - 1, len(bl), run.stdout))
    seen = set()
    for (typed, uboot), got in zip(bl, answers):
        got = got.rstrip("\n").split("\n") if got.rstrip("\n") else []
        while uboot and uboot[-1] == "":
            uboot = uboot[:-1]
        want = uboot
        if typed[0] in diff:
            seen.add(typed[0])
            want = diff[typed[0]]
            if want == uboot:
                sys.exit("FAIL: '%s' is listed as a difference but vlab must answer as U-Boot" % typed[0])
        if got != want:
            sys.exit("FAIL: '%s'\n  U-Boot%s: %r\n  vlab: %r" %
                     (typed[0], " (deliberate difference)" if typed[0] in diff else "", want, got))
        print("same%s: %s" % (" (listed difference)" if typed[0] in diff else "", " / ".join(typed)))
    missing = set(diff) - seen
    if missing:
        sys.exit("FAIL: differences listed for lines U-Boot was not given: %s" % sorted(missing))
    print("%d lines compared with U-Boot, %d listed differences" % (len(bl), len(diff)))


if __name__ == "__main__":
    main()
