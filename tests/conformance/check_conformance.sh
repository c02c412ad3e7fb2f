#!/usr/bin/env bash
# The conformance tables (docs/spec/conformance-{driver,device}.tsv) say
# what the code and the test list say (issue 12; docs/conformance.md).
#
#   tests/conformance/check_conformance.sh SOURCE_DIR BUILD_DIR [CTEST] [--write-counts]
#
# 1. Each table has the header `req_id<TAB>how<TAB>evidence` and exactly the
#    requirements of its spec table (docs/spec/virtio-1.2-*-requirements.tsv),
#    in the same order, three fields a row, `how` one of model, test, na,
#    unchecked, and a non-empty evidence.
# 2. `model` rows: on the driver side every evidence word is a devmodel
#    source file that cites the ID as a string ("DRV-..."); on the device
#    side words under devmodel/ are files that exist and the others are
#    ctest regexes, as for `test` rows.
# 3. `test` rows: every evidence word is a regex matching at least one test
#    of `ctest -N` in BUILD_DIR.
# 4. Every ID devmodel cites as a string (dm_virtio_checked/violation and
#    the front ends' helpers all take it as a literal) has a `model` row,
#    or an `na` row whose reason names the devmodel file that checks it
#    (a condition the driver never meets: the model would still FAIL it);
#    that file must cite the ID.
# 5. No devmodel file includes a driver header (devmodel/independence.cmake
#    checks it at configure time; this repeats it as a test).
# 6. The counts per `how` in docs/conformance.md (between the
#    conformance-counts markers) are the tables' own; --write-counts
#    rewrites them.
# Prints one line per problem, "file:line: what", and exits 1 if any.
set -u
usage="usage: check_conformance.sh SOURCE_DIR BUILD_DIR [CTEST] [--write-counts]"
src=${1:?$usage}
build=${2:?$usage}
ctest=${3:-ctest}
write=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
problem() {
	echo "$1"
	bad=1
}

if ! "$ctest" --test-dir "$build" -N >"$tmp/n.out" 2>&1; then
	echo "check_conformance: '$ctest --test-dir $build -N' failed:"
	cat "$tmp/n.out"
	exit 1
fi
sed -n 's/^ *Test *#[0-9]*: //p' "$tmp/n.out" >"$tmp/tests"

# A regex matching at least one test name.
test_exists() {
	grep -Eq -- "$1" "$tmp/tests" 2>/dev/null
}

for side in driver device; do
	spec="docs/spec/virtio-1.2-$side-requirements.tsv"
	table="docs/spec/conformance-$side.tsv"
	if [ ! -f "$src/$table" ]; then
		problem "$table: missing"
		continue
	fi
	# 1. header, IDs in order, fields, how, evidence.
	head -n 1 "$src/$table" | grep -qxP 'req_id\thow\tevidence' ||
		problem "$table:1: header is not 'req_id<TAB>how<TAB>evidence'"
	tail -n +2 "$src/$spec" | cut -f1 >"$tmp/spec_ids"
	tail -n +2 "$src/$table" | cut -f1 >"$tmp/table_ids"
	if ! cmp -s "$tmp/spec_ids" "$tmp/table_ids"; then
		diff "$tmp/spec_ids" "$tmp/table_ids" | head -5 | sed "s|^|$table: not the IDs of $spec in order: |"
		bad=1
	fi
	awk -F'\t' -v t="$table" 'NR > 1 {
		if (NF != 3) { printf "%s:%d: %d fields, not 3\n", t, NR, NF; next }
		if ($2 !~ /^(model|test|na|unchecked)$/) printf "%s:%d: how \"%s\" is not model, test, na or unchecked\n", t, NR, $2
		if ($3 ~ /^[ \t]*$/) printf "%s:%d: %s has no evidence\n", t, NR, $1
	}' "$src/$table" >"$tmp/p1"
	[ -s "$tmp/p1" ] && { cat "$tmp/p1"; bad=1; }

	# 2. and 3. evidence of model and test rows.
	line=1
	while IFS=$'\t' read -r id how evidence; do
		line=$((line + 1))
		case $how in
		model | test) ;;
		*) continue ;;
		esac
		for w in $evidence; do
			if [ "$how" = model ] && { [ "$side" = driver ] || [[ $w == devmodel/* ]]; }; then
				if [[ $w != devmodel/* ]] || [ ! -f "$src/$w" ]; then
					problem "$table:$line: $id: '$w' is not a devmodel file"
				elif [ "$side" = driver ] && ! grep -qF "\"$id\"" "$src/$w"; then
					problem "$table:$line: $id: $w does not cite \"$id\""
				fi
			elif ! test_exists "$w"; then
				problem "$table:$line: $id: '$w' matches no test of ctest -N"
			fi
		done
	done < <(tail -n +2 "$src/$table")
	awk -F'\t' 'NR > 1 { n[$2]++ } END { printf "%d %d %d %d\n", n["model"], n["test"], n["na"], n["unchecked"] }' \
		"$src/$table" >"$tmp/counts_$side"
done

# 4. every ID devmodel cites has a model row (or an na row naming the file).
grep -ohE '"(DRV|DEV)-[0-9.]+-[0-9]+"' "$src"/devmodel/src/*.c "$src"/devmodel/src/*.h 2>/dev/null |
	tr -d '"' | sort -u >"$tmp/cited"
cat "$src"/docs/spec/conformance-driver.tsv "$src"/docs/spec/conformance-device.tsv 2>/dev/null |
	awk -F'\t' '$2 == "model" || ($2 == "na" && $3 ~ /devmodel\/src\/[a-z_]+\.c/) { print $1 }' |
	sort -u >"$tmp/model_rows"
comm -23 "$tmp/cited" "$tmp/model_rows" |
	sed 's/^/devmodel cites /; s/$/ but its row is not `model` (or `na` naming the devmodel file)/' >"$tmp/p4"
[ -s "$tmp/p4" ] && { cat "$tmp/p4"; bad=1; }
while IFS=$'\t' read -r id how ev; do
	[ "$how" = na ] || continue
	for f in $(grep -oE 'devmodel/src/[a-z_]+\.c' <<<"$ev"); do
		grep -q "\"$id\"" "$src/$f" 2>/dev/null ||
			problem "docs/spec/conformance-driver.tsv: $id: na names $f, which does not cite it"
	done
done <"$src/docs/spec/conformance-driver.tsv"

# 5. devmodel includes nothing from driver/.
grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](vlab/|.*driver/)' -r "$src/devmodel" \
	--include='*.c' --include='*.h' | sed "s|^$src/||; s/\$/: devmodel includes a driver header/" >"$tmp/p5"
[ -s "$tmp/p5" ] && { cat "$tmp/p5"; bad=1; }

# 6. counts in docs/conformance.md.
read -r dm dt dn du <"$tmp/counts_driver"
read -r vm vt vn vu <"$tmp/counts_device"
{
	echo "| side | model | test | na | unchecked | total |"
	echo "| --- | --- | --- | --- | --- | --- |"
	echo "| driver (\`conformance-driver.tsv\`) | $dm | $dt | $dn | $du | $((dm + dt + dn + du)) |"
	echo "| device (\`conformance-device.tsv\`) | $vm | $vt | $vn | $vu | $((vm + vt + vn + vu)) |"
} >"$tmp/counts"
doc="$src/docs/conformance.md"
begin='<!-- conformance-counts: begin (tests/conformance/check_conformance.sh --write-counts) -->'
end='<!-- conformance-counts: end -->'
if ! grep -qxF "$begin" "$doc" 2>/dev/null || ! grep -qxF "$end" "$doc"; then
	problem "docs/conformance.md: no conformance-counts markers"
else
	awk -v b="$begin" -v e="$end" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$doc" >"$tmp/doc_counts"
	if ! cmp -s "$tmp/counts" "$tmp/doc_counts"; then
		if [ "$write" = --write-counts ]; then
			awk -v b="$begin" -v e="$end" -v f="$tmp/counts" '
				$0 == e { while ((getline l < f) > 0) print l; on = 0 }
				!on { print } $0 == b { on = 1 }' "$doc" >"$tmp/doc" && cat "$tmp/doc" >"$doc"
			echo "docs/conformance.md: counts rewritten"
		else
			problem "docs/conformance.md: the counts are stale (run with --write-counts):"
			cat "$tmp/counts"
		fi
	fi
fi

[ "$bad" = 0 ] && echo "conformance tables: driver $dm model, $dt test, $dn na, $du unchecked; device $vm model, $vt test, $vn na, $vu unchecked"
exit "$bad"
