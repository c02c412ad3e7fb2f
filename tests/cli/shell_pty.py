#!/usr/bin/env python3
"""vlab's prompt at a terminal (a pty): Tab completes, Left/Right edit,
Up brings back the last line, and the history file keeps the lines for the
next session.

usage: shell_pty.py VLAB SCRATCH-DIR     (run by tests/cli/shell_test.sh)

Every wait is bounded (10 s); exits 1 with what the terminal showed when an
answer does not come.
"""
import os
import pty
import re
import select
import subprocess
import sys
import time

LEFT, UP = "\x1b[D", "\x1b[A"


class Session:
    def __init__(self, vlab, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([vlab], stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, pattern, what):
        end = time.time() + 10
        while time.time() < end:
            if re.search(pattern, self.seen):
                m = re.search(pattern, self.seen)
                self.seen = self.seen[m.end():]
                return
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    break
                if not data:
                    break
                self.seen += data.decode(errors="replace")
        sys.exit("FAIL: %s: no %r in the terminal's output:\n%r" % (what, pattern, self.seen))

    def type(self, text):
        os.write(self.master, text.encode())

    def close(self):
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.master)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vlab, work = sys.argv[1:]
    hist = os.path.join(work, "pty_history")
    if os.path.exists(hist):
        os.remove(hist)
    env = dict(os.environ, VLAB_HISTORY=hist, HOME=work, TERM="xterm")

    s = Session(vlab, env)
    s.expect(r"=> ", "the prompt")
    s.type("echo hist-one\r")
    s.expect(r"\nhist-one\r?\n", "echo's answer")
    s.type(UP + "\r")
    s.expect(r"\nhist-one\r?\n", "Up then Enter: the last line again")
    s.type("ech\ttabbed\r")
    s.expect(r"\ntabbed\r?\n", "Tab completing 'ech' to 'echo '")
    s.type("echo abc" + LEFT + LEFT + "X\r")
    s.expect(r"\naXbc\r?\n", "Left twice, then X inserted")
    s.type("if true\r")
    s.expect(r"> ", "U-Boot's continuation prompt in an open if")
    s.type("then echo in-if; fi\r")
    s.expect(r"\nin-if\r?\n", "the if block's answer")
    s.type("exit\r")
    s.close()
    print("session 1: echo, Up, Tab, Left, an if over two lines: ok")

    text = open(hist).read().replace("\\040", " ")
    for line in ("echo hist-one", "echo tabbed", "echo aXbc", "exit"):
        if line not in text:
            sys.exit("FAIL: the history file lacks %r:\n%s" % (line, text))
    print("history file %s holds the lines" % hist)

    s = Session(vlab, env)
    s.expect(r"=> ", "the prompt of session 2")
    s.type(UP * 4 + "\r")
    s.expect(r"\naXbc\r?\n", "Up in a new session: the last session's lines")
    s.type("exit\r")
    s.close()
    print("session 2: Up brought back session 1's line: ok")


if __name__ == "__main__":
    main()
