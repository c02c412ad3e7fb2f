#!/usr/bin/env bash
# vlab's shell as U-Boot's hush: lists, variables, if/test/run, exit
# statuses, -e, bounds.  shell_prompt_test.sh: completion, U-Boot's own
# answers, the terminal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" "$@"
# A small machine starts faster: these checks need no disk.
small=(--ram 4M --blk-ram 64K)
vrun() {
	local want=$1
	shift
	run "$want" "${small[@]}" "$@"
}

check "';' runs every command after a failure; the status says one failed"
vrun 1 -c 'false; echo after'
contains after

check "'&&' after a failure and '||' after a success run nothing"
vrun 0 -c 'true && echo yes1; true || echo no1; echo end'
contains yes1
lacks no1
vrun 1 -c 'false && echo no2; false || echo yes2'
contains yes2
lacks no2

check "setenv, then \$a and \${a} expand when the command runs; '...' does not expand"
vrun 0 -c 'setenv a 1; echo $a ${a}x "$a" '"'"'$a'"'"
contains '1 1x 1 $a'

check "an unquoted value splits into words, a quoted one does not"
vrun 0 -c 'setenv w "p  q"; echo $w; echo "$w"'
lines_in_order 'p q' 'p  q'

check "printenv prints name=value and U-Boot's size line; a name not set fails"
vrun 0 -c 'setenv zz 5; printenv'
contains 'loadaddr=0x80000000'
contains 'zz=5'
contains 'Environment size: '
vrun 1 -c 'printenv nosuch'
contains '## Error: "nosuch" not defined'

check "setenv without a value, env delete: the variable is gone"
vrun 1 -c 'setenv a 1; setenv a; printenv a'
contains '## Error: "a" not defined'
vrun 1 -c 'env set b 2; env print b; env delete b; env print b'
lines_in_order 'b=2' '## Error: "b" not defined'

check "name=value sets a local variable that printenv does not show"
vrun 1 -c 'x=5; echo x is $x; printenv x'
lines_in_order 'x is 5' '## Error: "x" not defined'

check "if/then/elif/else/fi on one line"
vrun 0 -c 'if test 1 -eq 2; then echo one; elif test a = a; then echo two; else echo three; fi'
contains two
lacks one
lacks three

check "a false if condition is an answer, not a failure (status 0)"
vrun 0 -c 'if false; then echo no; fi; if test -n ""; then echo no; else echo else-ran; fi'
contains else-ran
lacks no

check "test: numbers (0x hex, 0 octal), strings, -z/-n, !, -a/-o"
vrun 0 -c 'test 0x10 -eq 16 && test 010 -eq 8 && test 9 -lt 10 && test b ">" a &&
          test -z "" && test ! -n "" && test a = a -a b = b && test a = b -o c = c &&
          [ 1 -ge 1 ] && echo all-true'
contains all-true
vrun 1 -c 'test 2 -gt 3'
vrun 1 -c 'test -n $nosuch'

check "test -e hostfs - FILE looks at the host's files"
touch here.txt
vrun 0 -c 'test -e hostfs - here.txt && echo found'
contains found
# A false test that a '||' answers still counts (docs/vlab.md): status 1.
vrun 1 -c 'test -e hostfs - nothere.txt || echo absent'
contains absent

check "run runs a variable's commands, its status that of the last"
vrun 0 -c "setenv cmd 'echo in-run; echo second'; run cmd"
lines_in_order in-run second
vrun 1 -c "setenv c 'echo a; false'; run c || echo run-failed"
contains run-failed
vrun 1 -c 'run nosuch'
contains '## Error: "nosuch" not defined'

check "run that runs itself stops at a bound, with a message"
vrun 1 -c "setenv x 'run x'; run x"
contains 'nested more than 16 deep'

check "a load sets filesize (hex, as U-Boot)"
head -c 300 /dev/zero >f300.bin
vrun 0 -c 'load hostfs - $loadaddr f300.bin; printenv filesize'
contains 'filesize=12c'

check "-e stops at the first failure; without it every command runs"
vrun 1 -e -c 'echo one; false; echo two'
contains one
lacks two
printf 'echo s1\nfalse\necho s2\n' >s.vlab
"$VLAB" "${small[@]}" -e <s.vlab >out.txt 2>&1 && fail "vlab -e < script should fail"
contains s1
lacks s2
"$VLAB" "${small[@]}" <s.vlab >out.txt 2>&1 && fail "vlab < script should fail"
contains s2

check "-e does not stop at a false if condition"
vrun 0 -e -c 'if false; then echo no; fi; echo after-if'
contains after-if

check "a script's if/else/fi block may span lines, as U-Boot's"
cat >if.vlab <<'EOF'
setenv v 3
if test $v -lt 5
then
	echo small
else
	echo big
fi
echo done
EOF
"$VLAB" "${small[@]}" <if.vlab >out.txt 2>&1 || fail "the if script failed"
lines_in_order small done
lacks big

check "a malformed text runs nothing: unterminated quote, if without fi, '&&' at an end"
vrun 1 -c 'echo ran; echo "open'
lacks ran
contains 'unterminated " quote'
vrun 1 -c 'echo ran; if true; then echo x'
lacks ran
contains "'if' without 'fi'"
vrun 1 -c 'echo ran &&'
contains "syntax error near '&&'"
printf 'if true; then\necho never\n' >open.vlab
"$VLAB" "${small[@]}" <open.vlab >out.txt 2>&1 && fail "an if left open at the end should fail"
contains "'if' without 'fi'"
lacks never

check "bounds: ifs nested too deep, a command too long after expansion, too many words"
deep="$(printf 'if true; then %.0s' {1..40}) echo x $(printf '; fi%.0s' {1..40})"
vrun 1 -c "$deep"
contains "'if' nested more than 32 deep"
vrun 1 -c "setenv a $(printf 'x%.0s' {1..3000}); echo \$a\$a"
contains 'command longer than 4095 bytes after expansion'
vrun 1 -c "setenv a '$(printf 'w %.0s' {1..40})'; echo \$a"
contains 'too many words in one command after expansion (limit 32)'

check "the shell's commands take -h as data (test \"\$x\" = -h)"
vrun 0 -c 'setenv x -h; test "$x" = -h && echo data'
contains data

finish
