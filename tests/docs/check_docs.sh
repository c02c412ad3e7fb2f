#!/usr/bin/env bash
# shellcheck disable=SC2016 # backticks in single quotes are Markdown code spans
# The docs say what the code and the test list say (issue 10, item 11: "a
# doc claim that names a test or a command should be checked by a test").
#
#   tests/docs/check_docs.sh SOURCE_DIR BUILD_DIR [CTEST]
#
# 1. docs/attack-surface.md: runs the doc's own grep (its first ```sh block)
#    in SOURCE_DIR and maps every hit to its read site, file.c:function.
#    Every site must be named in the doc (as `file.c:function`), and every
#    site the doc names must be one the grep finds.
# 2. README.md and docs/*.md: every test name or regex in backticks
#    (`unit.Foo.Bar`, `model.Transports/Hardening.Baz/`, ...) and every
#    `ctest ... -R REGEX` must match at least one test of `ctest -N` in
#    BUILD_DIR; every `ctest ... -L LABEL` must match a label; a name cut
#    short (`.Baz`) is refused.
# 3. docs/attack-surface.md: every fuzz seed it names (`fuzz_target/seed`)
#    is a file in fuzz/corpus/ or fuzz/regressions/.
# 4. README.md and docs/*.md: every repository path in backticks
#    (`driver/...`, `tests/...`, globs allowed) exists.
# Prints one line per problem, "file:line: what", and exits 1 if any.
set -u
usage="usage: check_docs.sh SOURCE_DIR BUILD_DIR [CTEST]"
src=${1:?$usage}
build=${2:?$usage}
ctest=${3:-ctest}
cd "$src" || exit 2
as=docs/attack-surface.md
docs=(README.md docs/*.md)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/problems"

# ---- the test list and the labels ----
if ! "$ctest" --test-dir "$build" -N >"$tmp/n.out" 2>&1; then
	echo "check_docs: '$ctest --test-dir $build -N' failed:"
	cat "$tmp/n.out"
	exit 2
fi
sed -n 's/^ *Test *#[0-9]*: //p' "$tmp/n.out" >"$tmp/tests"
"$ctest" --test-dir "$build" --print-labels 2>/dev/null | sed -n 's/^  *//p' >"$tmp/labels"
if [ ! -s "$tmp/tests" ]; then
	echo "check_docs: no test in $build (build it first)"
	exit 2
fi
echo "check_docs: $(wc -l <"$tmp/tests") tests, labels $(tr '\n' ' ' <"$tmp/labels")in $build"

# ---- 1. the attack-surface grep against the table ----
awk '/^```sh/ {on = 1; next} on && /^```/ {exit} on {print}' "$as" >"$tmp/grep.sh"
bash "$tmp/grep.sh" >"$tmp/hits"
if [ ! -s "$tmp/hits" ]; then
	echo "$as: the documented grep (its first \`\`\`sh block) finds nothing" >>"$tmp/problems"
else
	# A hit's site is the function whose body holds it: a definition starts
	# at column 0 with its name before the first '(' and does not end in ';'.
	cut -d: -f1 "$tmp/hits" | sort -u >"$tmp/files"
	# shellcheck disable=SC2046
	awk -v hits="$tmp/hits" '
		BEGIN { while ((getline h < hits) > 0) { split(h, f, ":"); want[f[1] ":" f[2]] = h } }
		FNR == 1 { fn = "?" }
		/^[A-Za-z_]/ && !/;[[:space:]]*$/ && match($0, /[A-Za-z_][A-Za-z0-9_]*\(/) {
			fn = substr($0, RSTART, RLENGTH - 1) }
		(FILENAME ":" FNR) in want {
			base = FILENAME; sub(/.*\//, "", base)
			h = want[FILENAME ":" FNR]; sub(/:[[:space:]]+/, ": ", h)
			print base ":" fn "\t" h }' $(cat "$tmp/files") >"$tmp/code_sites"
	grep -no '`[A-Za-z0-9_]*\.c:[A-Za-z_][A-Za-z0-9_]*`' "$as" | tr -d '`' |
		awk -F: '{print $2 ":" $3 "\t" $1}' >"$tmp/doc_sites"
	awk -F'\t' -v as="$as" '
		FILENAME == ARGV[1] { code[$1] = 1; all[$1, ++n[$1]] = $2; next }
		{ doc[$1] = 1; if (!($1 in code))
			printf "%s:%s: names `%s`, where the documented grep finds no read (gone or renamed?)\n", as, $2, $1 }
		END { for (s in n) if (!(s in doc)) for (i = 1; i <= n[s]; i++)
			printf "%s: read site `%s` is in no row: %s\n", as, s, all[s, i] }' \
		"$tmp/code_sites" "$tmp/doc_sites" | sort >>"$tmp/problems"
	echo "check_docs: $as: $(cut -f1 "$tmp/code_sites" | sort -u | wc -l) read sites in driver/," \
		"$(cut -f1 "$tmp/doc_sites" | sort -u | wc -l) named in the doc"
fi

# ---- 2. test names, ctest regexes and labels in the docs ----
# Collect "kind<TAB>doc:line<TAB>text", then match them all in one awk.
for doc in "${docs[@]}"; do
	# Inline code that starts with a label prefix is a test name or regex.
	grep -no '`[^`]*`' "$doc" | tr -d '`' |
		awk -F: -v d="$doc" '{ l = $1; sub(/^[0-9]+:/, "") }
			/^(unit|model|cli|fuzz|qemu|docs)\.[^[:space:]]+$/ { print "T\t" d ":" l "\t" $0 }
			/^\.[A-Z][A-Za-z0-9]*$/ { print "S\t" d ":" l "\t" $0 }'
	# ctest command lines: the arguments of -R/--tests-regex and -L/--label-regex.
	grep -n 'ctest ' "$doc" | awk -F: -v d="$doc" '{
		l = $1; sub(/^[0-9]+:/, ""); sub(/.*ctest /, ""); sub(/[`#].*/, ""); gsub(/["\047]/, "")
		n = split($0, a, /[[:space:]]+/)
		for (i = 1; i < n; i++) {
			if (a[i] == "-R" || a[i] == "--tests-regex") print "R\t" d ":" l "\t" a[i + 1]
			if (a[i] == "-L" || a[i] == "--label-regex") print "L\t" d ":" l "\t" a[i + 1]
		} }'
done >"$tmp/names"
awk -F'\t' -v tests="$tmp/tests" -v labels="$tmp/labels" '
	BEGIN { while ((getline t < tests) > 0) test[++nt] = t
		while ((getline t < labels) > 0) label[++nl] = t }
	function any(re, arr, n,   i) { for (i = 1; i <= n; i++) if (arr[i] ~ re) return 1; return 0 }
	$1 == "T" && !any($3, test, nt) { printf "%s: `%s` matches no CTest test (ctest -R finds nothing)\n", $2, $3 }
	$1 == "R" && !any($3, test, nt) { printf "%s: ctest -R %s matches no CTest test\n", $2, $3 }
	$1 == "L" && !any($3, label, nl) { printf "%s: ctest -L %s matches no label\n", $2, $3 }
	$1 == "S" { printf "%s: `%s` is a test name cut short: write it in full\n", $2, $3 }' \
	"$tmp/names" >>"$tmp/problems"
echo "check_docs: $(wc -l <"$tmp/names") test names, regexes and labels in ${docs[*]}"

# ---- 3. fuzz seeds named in the attack-surface doc ----
grep -no '`fuzz_[a-z_]*/[A-Za-z0-9_.-]*`' "$as" | tr -d '`' | while IFS=: read -r l seed; do
	[ -f "fuzz/corpus/$seed" ] || [ -f "fuzz/regressions/$seed" ] ||
		echo "$as:$l: fuzz seed \`$seed\` is in neither fuzz/corpus/ nor fuzz/regressions/"
done >>"$tmp/problems"

# ---- 4. repository paths in backticks exist ----
for doc in "${docs[@]}"; do
	grep -no '`[^` ]*`' "$doc" | tr -d '`' |
		grep -E '^[0-9]+:(driver|devmodel|harness|tests|fuzz|qemu-images|scenarios|docs|scripts)/' |
		while IFS=: read -r l path; do
			case $path in *'<'* | *'{'* | *...*) continue ;; esac
			path=${path%%#*}
			compgen -G "${path%%:*}" >/dev/null || echo "$doc:$l: \`$path\` does not exist"
		done
done >>"$tmp/problems"

if [ -s "$tmp/problems" ]; then
	cat "$tmp/problems"
	echo "check_docs: $(wc -l <"$tmp/problems") problem(s)"
	exit 1
fi
echo "check_docs: OK"
