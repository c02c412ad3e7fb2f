// Partition table parser (driver/part): MBR with extended partitions, GPT
// with backup header, hostile tables, and a cross-check against sfdisk.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "vlab/err.h"
#include "vlab/part.h"

namespace {

// ---------------------------------------------------------------------------
// An in-memory disk and its read callback.

struct Disk {
	uint32_t ss = 512;
	std::vector<uint8_t> data;
	unsigned reads = 0;
	uint64_t sectors_read = 0;
	bool fail = false;

	Disk(uint64_t nsect, uint32_t sector_size = 512) : ss(sector_size), data(nsect * sector_size) {}
	uint64_t total() const { return data.size() / ss; }
	uint8_t *sec(uint64_t lba) { return &data[lba * ss]; }
};

int DiskRead(void *ctx, uint64_t lba, uint32_t nsect, void *buf)
{
	auto *d = static_cast<Disk *>(ctx);
	d->reads++;
	d->sectors_read += nsect;
	// The parser promises never to read beyond total_sectors.
	EXPECT_LE(lba + nsect, d->total()) << "read beyond the disk";
	if (d->fail || lba + nsect > d->total())
		return VLAB_EIO;
	std::memcpy(buf, d->sec(lba), size_t(nsect) * d->ss);
	return 0;
}

struct Scan {
	vlab_part_table t{};
	int rc = 0;
};

Scan ScanDisk(Disk &d, uint64_t total = 0)
{
	Scan s;
	std::vector<uint8_t> scratch(2 * d.ss + 16384);
	s.rc = vlab_part_scan(&s.t, d.ss, total ? total : d.total(), DiskRead, &d, scratch.data(),
	                      scratch.size());
	return s;
}

const vlab_part *Find(const vlab_part_table &t, unsigned number)
{
	for (unsigned i = 0; i < t.count; i++)
		if (t.part[i].number == number)
			return &t.part[i];
	return nullptr;
}

// ---------------------------------------------------------------------------
// Independent helpers (not the code under test).

uint32_t RefCrc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

void Put16(uint8_t *p, uint16_t v)
{
	p[0] = uint8_t(v);
	p[1] = uint8_t(v >> 8);
}
void Put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = uint8_t(v >> (8 * i));
}
void Put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = uint8_t(v >> (8 * i));
}

using Guid = std::array<uint8_t, 16>;

// "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" -> on-disk bytes.
Guid ParseGuid(const std::string &s)
{
	std::string hex;
	for (char c : s)
		if (c != '-')
			hex += c;
	uint8_t b[16];
	for (int i = 0; i < 16; i++)
		b[i] = uint8_t(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
	Guid g{};
	const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	for (int i = 0; i < 16; i++)
		g[order[i]] = b[i];
	return g;
}

std::string GuidStr(const uint8_t *g)
{
	char s[37];
	vlab_guid_to_str(g, s);
	return s;
}

const char *kEfi = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const char *kLinuxFs = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const char *kSwap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";

// ---------------------------------------------------------------------------
// MBR builder.

void MbrEntry(uint8_t *sec, unsigned slot, uint8_t boot, uint8_t type, uint32_t start, uint32_t size)
{
	uint8_t *p = sec + 446 + 16 * slot;
	p[0] = boot;
	p[4] = type;
	Put32(p + 8, start);
	Put32(p + 12, size);
}

void MbrSign(uint8_t *sec)
{
	sec[510] = 0x55;
	sec[511] = 0xAA;
}

// ---------------------------------------------------------------------------
// GPT builder: protective MBR, primary and backup header and arrays.

struct GptEntry {
	uint32_t index;
	Guid type;
	Guid uuid;
	uint64_t first, last, attrs;
	std::u16string name;
};

struct GptLayout {
	uint32_t num_entries = 128;
	uint32_t entry_size = 128;
	Guid disk_guid = ParseGuid("11223344-5566-7788-99AA-BBCCDDEEFF00");
	uint64_t first_usable = 0, last_usable = 0; // 0: computed
};

uint64_t ArraySectors(const Disk &d, const GptLayout &l)
{
	return (uint64_t(l.num_entries) * l.entry_size + d.ss - 1) / d.ss;
}

// Header at lba with its array at entries_lba.
void GptHeader(Disk &d, const GptLayout &l, uint64_t lba, uint64_t alt, uint64_t entries_lba, uint32_t array_crc)
{
	uint8_t *h = d.sec(lba);
	std::memset(h, 0, d.ss);
	std::memcpy(h, "EFI PART", 8);
	Put32(h + 8, 0x00010000);
	Put32(h + 12, 92);
	Put64(h + 24, lba);
	Put64(h + 32, alt);
	Put64(h + 40, l.first_usable);
	Put64(h + 48, l.last_usable);
	std::memcpy(h + 56, l.disk_guid.data(), 16);
	Put64(h + 72, entries_lba);
	Put32(h + 80, l.num_entries);
	Put32(h + 84, l.entry_size);
	Put32(h + 88, array_crc);
	Put32(h + 16, RefCrc32(h, 92));
}

void RehashHeader(Disk &d, uint64_t lba)
{
	uint8_t *h = d.sec(lba);
	Put32(h + 16, 0);
	Put32(h + 16, RefCrc32(h, 92));
}

void WriteGpt(Disk &d, GptLayout l, const std::vector<GptEntry> &entries)
{
	uint64_t total = d.total(), asec = ArraySectors(d, l);
	if (!l.first_usable)
		l.first_usable = 2 + asec;
	if (!l.last_usable)
		l.last_usable = total - 2 - asec;
	uint8_t *mbr = d.sec(0);
	std::memset(mbr, 0, d.ss);
	MbrEntry(mbr, 0, 0, 0xee, 1, uint32_t(std::min<uint64_t>(total - 1, 0xffffffffu)));
	MbrSign(mbr);

	std::vector<uint8_t> array(asec * d.ss);
	for (const auto &e : entries) {
		uint8_t *p = &array[size_t(e.index) * l.entry_size];
		std::memcpy(p, e.type.data(), 16);
		std::memcpy(p + 16, e.uuid.data(), 16);
		Put64(p + 32, e.first);
		Put64(p + 40, e.last);
		Put64(p + 48, e.attrs);
		for (size_t i = 0; i < e.name.size() && i < 36; i++)
			Put16(p + 56 + 2 * i, uint16_t(e.name[i]));
	}
	uint32_t crc = RefCrc32(array.data(), size_t(l.num_entries) * l.entry_size);
	std::memcpy(d.sec(2), array.data(), array.size());
	uint64_t backup_array = total - 1 - asec;
	std::memcpy(d.sec(backup_array), array.data(), array.size());
	GptHeader(d, l, 1, total - 1, 2, crc);
	GptHeader(d, l, total - 1, 1, backup_array, crc);
}

std::vector<GptEntry> ThreeGptEntries()
{
	return {
		{0, ParseGuid(kEfi), ParseGuid("01020304-0506-0708-090A-0B0C0D0E0F10"), 2048, 4095, 1,
		 u"EFI system"},
		{1, ParseGuid(kLinuxFs), ParseGuid("A1A2A3A4-B1B2-C1C2-D1D2-E1E2E3E4E5E6"), 4096, 12287,
		 (1ull << 2) | (1ull << 60), u"r\u00f6\u00f6t \u20ac"},
		// index 4: numbered 5, with gaps before it
		{4, ParseGuid(kSwap), ParseGuid("FFFFFFFF-0000-1111-2222-333333333333"), 12288, 16383, 0,
		 u"swap"},
	};
}

void ExpectThreeGptEntries(const Scan &s)
{
	ASSERT_EQ(s.rc, 0) << vlab_errname(s.rc);
	ASSERT_EQ(s.t.scheme, VLAB_PART_GPT);
	ASSERT_EQ(s.t.count, 3u);
	const vlab_part *p1 = Find(s.t, 1), *p2 = Find(s.t, 2), *p5 = Find(s.t, 5);
	ASSERT_TRUE(p1 && p2 && p5);
	EXPECT_EQ(p1->start_lba, 2048u);
	EXPECT_EQ(p1->nsectors, 2048u);
	EXPECT_EQ(GuidStr(p1->type_guid), kEfi);
	EXPECT_EQ(GuidStr(p1->uuid), "01020304-0506-0708-090A-0B0C0D0E0F10");
	EXPECT_STREQ(p1->name, "EFI system");
	EXPECT_EQ(p1->attrs, 1u);
	EXPECT_STREQ(vlab_part_type_name(&s.t, p1), "EFI System");
	EXPECT_EQ(p2->start_lba, 4096u);
	EXPECT_EQ(p2->nsectors, 8192u);
	EXPECT_STREQ(p2->name, "r\xc3\xb6\xc3\xb6t \xe2\x82\xac");
	EXPECT_EQ(p2->attrs, (1ull << 2) | (1ull << 60));
	EXPECT_STREQ(vlab_part_type_name(&s.t, p2), "Linux filesystem");
	EXPECT_EQ(p5->start_lba, 12288u);
	EXPECT_EQ(p5->nsectors, 4096u);
	EXPECT_STREQ(vlab_part_type_name(&s.t, p5), "Linux swap");
	EXPECT_EQ(GuidStr(s.t.disk_guid), "11223344-5566-7788-99AA-BBCCDDEEFF00");
}

// ---------------------------------------------------------------------------

TEST(Crc32, KnownAnswerAndChaining)
{
	const char *s = "123456789";
	EXPECT_EQ(vlab_crc32(0, s, 9), 0xCBF43926u);
	EXPECT_EQ(vlab_crc32(vlab_crc32(0, s, 4), s + 4, 5), 0xCBF43926u);
	EXPECT_EQ(vlab_crc32(0, s, 0), 0u);
	std::vector<uint8_t> big(5000);
	for (size_t i = 0; i < big.size(); i++)
		big[i] = uint8_t(i * 131 + 7);
	EXPECT_EQ(vlab_crc32(0, big.data(), big.size()), RefCrc32(big.data(), big.size()));
}

TEST(Guid, MixedEndianText)
{
	Guid g = ParseGuid(kEfi);
	EXPECT_EQ(g[0], 0x28); // first field stored little-endian
	EXPECT_EQ(GuidStr(g.data()), kEfi);
}

TEST(PartScan, ArgumentsAreChecked)
{
	Disk d(64);
	vlab_part_table t;
	std::vector<uint8_t> scratch(2 * 512 + 16384);
	EXPECT_EQ(vlab_part_scan(&t, 512, 64, DiskRead, &d, scratch.data(), scratch.size() - 1), VLAB_EINVAL);
	EXPECT_EQ(vlab_part_scan(&t, 500, 64, DiskRead, &d, scratch.data(), scratch.size()), VLAB_EINVAL);
	EXPECT_EQ(vlab_part_scan(&t, 512, 64, nullptr, &d, scratch.data(), scratch.size()), VLAB_EINVAL);
	EXPECT_EQ(vlab_part_scan(nullptr, 512, 64, DiskRead, &d, scratch.data(), scratch.size()), VLAB_EINVAL);
}

TEST(PartScan, NoTable)
{
	Disk d(2048);
	Scan s = ScanDisk(d);
	EXPECT_EQ(s.rc, 0);
	EXPECT_EQ(s.t.scheme, VLAB_PART_NONE);
	EXPECT_EQ(s.t.count, 0u);
	// 55 AA but boot flags that are not 0x00/0x80: a boot sector, not a table.
	MbrSign(d.sec(0));
	MbrEntry(d.sec(0), 0, 0x29, 0x83, 1, 10);
	s = ScanDisk(d);
	EXPECT_EQ(s.rc, 0);
	EXPECT_EQ(s.t.scheme, VLAB_PART_NONE);
	// An empty disk of zero sectors.
	s = ScanDisk(d, 0);
	EXPECT_EQ(s.rc, 0);
}

// A FAT boot sector on the whole disk (a "superfloppy") ends in 55 AA too:
// "FAT" at 0x36 (FAT12/16) or 0x52 (FAT32) makes it no table, as U-Boot's
// DOS partition code decides (the filesystem is then partition 0).
TEST(PartScan, FatBootSectorIsNotATable)
{
	for (unsigned off : {0x36u, 0x52u}) {
		SCOPED_TRACE(off);
		Disk d(2048);
		MbrSign(d.sec(0));
		MbrEntry(d.sec(0), 0, 0x00, 0x0e, 1, 100);
		std::memcpy(d.sec(0) + off, off == 0x36 ? "FAT16   " : "FAT32   ", 8);
		Scan s = ScanDisk(d);
		EXPECT_EQ(s.rc, 0);
		EXPECT_EQ(s.t.scheme, VLAB_PART_NONE);
		EXPECT_EQ(s.t.count, 0u);
	}
}

TEST(PartScan, ReadErrorIsReported)
{
	Disk d(2048);
	d.fail = true;
	Scan s = ScanDisk(d);
	EXPECT_EQ(s.rc, VLAB_EIO);
}

// Primaries in slots 1, 3 (extended) and 4; slot 2 empty; 3 logicals.
Disk MbrDiskWithLogicals()
{
	Disk d(20000);
	uint8_t *m = d.sec(0);
	Put32(m + 440, 0xdeadbeef);
	MbrEntry(m, 0, 0x80, 0x83, 2048, 2048);
	MbrEntry(m, 2, 0x00, 0x05, 8192, 8192); // extended: 8192..16383
	MbrEntry(m, 3, 0x00, 0x82, 16384, 1024);
	MbrSign(m);
	// EBR chain: 8192 -> 10240 -> 12288.  Logical starts relative to the
	// EBR; links relative to the extended partition's start.
	const uint64_t ebr[3] = {8192, 10240, 12288};
	const uint8_t type[3] = {0x83, 0x0c, 0x8e};
	for (int i = 0; i < 3; i++) {
		uint8_t *e = d.sec(ebr[i]);
		MbrEntry(e, 0, 0, type[i], 2048, 1000 + uint32_t(i));
		if (i < 2)
			MbrEntry(e, 1, 0, 0x05, uint32_t(ebr[i + 1] - 8192), 2048 + 1000);
		MbrSign(e);
	}
	return d;
}

TEST(Mbr, PrimariesAndLogicals)
{
	Disk d = MbrDiskWithLogicals();
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0) << vlab_errname(s.rc);
	ASSERT_EQ(s.t.scheme, VLAB_PART_MBR);
	EXPECT_EQ(s.t.disk_signature, 0xdeadbeefu);
	EXPECT_FALSE(s.t.truncated);
	EXPECT_EQ(s.t.skipped, 0u);
	ASSERT_EQ(s.t.count, 6u);
	EXPECT_EQ(Find(s.t, 2), nullptr) << "empty slot keeps its number unused";
	const vlab_part *p1 = Find(s.t, 1), *p3 = Find(s.t, 3), *p4 = Find(s.t, 4);
	ASSERT_TRUE(p1 && p3 && p4);
	EXPECT_TRUE(p1->bootable);
	EXPECT_EQ(p1->start_lba, 2048u);
	EXPECT_EQ(p1->nsectors, 2048u);
	EXPECT_STREQ(vlab_part_type_name(&s.t, p1), "Linux");
	EXPECT_EQ(p3->mbr_type, 0x05);
	EXPECT_EQ(p3->nsectors, 8192u);
	EXPECT_STREQ(vlab_part_type_name(&s.t, p3), "Extended");
	EXPECT_FALSE(p4->bootable);
	EXPECT_STREQ(vlab_part_type_name(&s.t, p4), "Linux swap / Solaris");
	const uint64_t ebr[3] = {8192, 10240, 12288};
	const char *names[3] = {"Linux", "W95 FAT32 (LBA)", "Linux LVM"};
	for (unsigned i = 0; i < 3; i++) {
		const vlab_part *l = Find(s.t, 5 + i);
		ASSERT_NE(l, nullptr) << "logical " << 5 + i;
		EXPECT_EQ(l->start_lba, ebr[i] + 2048);
		EXPECT_EQ(l->nsectors, 1000u + i);
		EXPECT_STREQ(vlab_part_type_name(&s.t, l), names[i]);
	}
}

TEST(Mbr, EbrLoopEndsTheWalk)
{
	Disk d = MbrDiskWithLogicals();
	// The third EBR links back to the first.
	MbrEntry(d.sec(12288), 1, 0, 0x05, 0 + 2048 /* -> 10240 */, 100);
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0);
	EXPECT_TRUE(s.t.truncated);
	EXPECT_EQ(s.t.count, 6u) << "each logical listed once";
	EXPECT_LT(d.reads, 10u);
	// A self-link.
	Disk d2 = MbrDiskWithLogicals();
	MbrEntry(d2.sec(10240), 1, 0, 0x05, 2048 /* itself */, 100);
	s = ScanDisk(d2);
	ASSERT_EQ(s.rc, 0);
	EXPECT_TRUE(s.t.truncated);
	EXPECT_EQ(s.t.count, 5u);
}

TEST(Mbr, LongEbrChainIsBounded)
{
	// An extended partition full of EBRs, each linking to the next: the
	// walk stops at VLAB_PART_MAX_EBR, the table at VLAB_PART_MAX.
	Disk d(4096);
	MbrEntry(d.sec(0), 0, 0, 0x0f, 1, 4000);
	MbrSign(d.sec(0));
	for (uint64_t lba = 1; lba < 4000; lba += 2) {
		uint8_t *e = d.sec(lba);
		MbrEntry(e, 0, 0, 0x83, 1, 1);
		MbrEntry(e, 1, 0, 0x05, uint32_t(lba + 1), 2);
		MbrSign(e);
	}
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0);
	EXPECT_TRUE(s.t.truncated);
	EXPECT_EQ(s.t.count, unsigned(VLAB_PART_MAX));
	EXPECT_LE(d.reads, VLAB_PART_MAX_EBR + 1);
}

TEST(Mbr, LbasBeyondTheDiskAreRejected)
{
	Disk d = MbrDiskWithLogicals();
	MbrEntry(d.sec(0), 1, 0, 0x83, 19000, 5000);      // ends beyond 20000
	MbrEntry(d.sec(10240), 0, 0, 0x83, 2048, 100000); // beyond the extended
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0);
	EXPECT_EQ(Find(s.t, 2), nullptr);
	EXPECT_EQ(Find(s.t, 6), nullptr);
	EXPECT_NE(Find(s.t, 7), nullptr) << "later logicals keep their numbers";
	EXPECT_EQ(s.t.skipped, 2u);
	// A link outside the extended partition ends the chain.
	Disk d2 = MbrDiskWithLogicals();
	MbrEntry(d2.sec(8192), 1, 0, 0x05, 9000, 10);
	s = ScanDisk(d2);
	ASSERT_EQ(s.rc, 0);
	EXPECT_TRUE(s.t.truncated);
	EXPECT_NE(Find(s.t, 5), nullptr);
	EXPECT_EQ(Find(s.t, 6), nullptr);
	// The disk is smaller than the table says: nothing is read past it.
	Disk d3 = MbrDiskWithLogicals();
	s = ScanDisk(d3, 9000);
	ASSERT_EQ(s.rc, 0);
	EXPECT_NE(Find(s.t, 1), nullptr);
	EXPECT_EQ(Find(s.t, 3), nullptr);
	EXPECT_EQ(Find(s.t, 5), nullptr);
}

TEST(Gpt, NamesAttributesAndNumbering)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_FALSE(s.t.backup_used);
	EXPECT_EQ(s.t.first_usable, 34u);
	EXPECT_EQ(s.t.last_usable, 32768u - 34);
}

TEST(Gpt, CorruptPrimaryHeaderUsesBackup)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	d.sec(1)[60] ^= 1; // header CRC now wrong
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_TRUE(s.t.backup_used);
}

TEST(Gpt, CorruptEntryArrayCrcUsesBackup)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	d.sec(2)[130] ^= 0x40; // inside the second entry of the primary array
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_TRUE(s.t.backup_used);
}

TEST(Gpt, BothCopiesBadIsAnError)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	d.sec(2)[130] ^= 0x40;
	d.sec(32768 - 33)[130] ^= 0x40;
	Scan s = ScanDisk(d);
	EXPECT_EQ(s.rc, VLAB_ENOGPT);
	EXPECT_EQ(s.t.scheme, VLAB_PART_GPT);
	EXPECT_EQ(s.t.count, 0u);
}

// A protective MBR whose GPT headers are both gone is a condition of its
// own (not a device configuration value): an empty GPT, as U-Boot lists it.
TEST(Gpt, ProtectiveMbrWithoutHeaderIsAnEmptyGpt)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	std::memset(d.sec(1), 0, 512);
	std::memset(d.sec(32767), 0, 512);
	Scan s = ScanDisk(d);
	EXPECT_EQ(s.rc, VLAB_ENOGPT);
	EXPECT_STREQ(vlab_strerror(s.rc), "protective MBR but no valid GPT header");
	EXPECT_EQ(s.t.scheme, VLAB_PART_GPT);
	EXPECT_EQ(s.t.count, 0u);
}

TEST(Gpt, MyLbaMustMatch)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	Put64(d.sec(1) + 24, 2);
	RehashHeader(d, 1);
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_TRUE(s.t.backup_used);
}

TEST(Gpt, HugeEntryCountIsRejected)
{
	Disk d(32768);
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	for (uint64_t lba : {uint64_t(1), uint64_t(32767)}) {
		Put32(d.sec(lba) + 80, 0x01000000); // 16 M entries, CRC still right
		RehashHeader(d, lba);
	}
	Scan s = ScanDisk(d);
	EXPECT_EQ(s.rc, VLAB_ENOGPT);
	EXPECT_LT(d.sectors_read, 100u) << "no attempt to read a giant array";
}

TEST(Gpt, BadEntrySizeAndRangesAreRejected)
{
	struct Case {
		const char *what;
		unsigned off;
		uint64_t val;
		int width;
	} cases[] = {
		{"entry size 64", 84, 64, 4},
		{"entry size 200", 84, 200, 4},
		{"header size 91", 12, 91, 4},
		{"header size above the sector", 12, 513, 4},
		{"last usable beyond the disk", 48, 40000, 8},
		{"first usable above last", 40, 32750, 8},
		{"array beyond the disk", 72, 32760, 8},
		{"revision 2", 8, 0x00020000, 4},
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.what);
		Disk d(32768);
		WriteGpt(d, GptLayout{}, ThreeGptEntries());
		for (uint64_t lba : {uint64_t(1), uint64_t(32767)}) {
			if (c.width == 4)
				Put32(d.sec(lba) + c.off, uint32_t(c.val));
			else
				Put64(d.sec(lba) + c.off, c.val);
			RehashHeader(d, lba);
		}
		Scan s = ScanDisk(d);
		EXPECT_EQ(s.rc, VLAB_ENOGPT);
	}
}

TEST(Gpt, EntriesOutsideUsableRangeAreSkipped)
{
	Disk d(32768);
	auto e = ThreeGptEntries();
	e.push_back({7, ParseGuid(kLinuxFs), Guid{}, 32000, 40000, 0, u"beyond"});
	e.push_back({8, ParseGuid(kLinuxFs), Guid{}, 20000, 19999, 0, u"inverted"});
	e.push_back({9, ParseGuid(kLinuxFs), Guid{}, 1, 100, 0, u"over header"});
	WriteGpt(d, GptLayout{}, e);
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_EQ(s.t.skipped, 3u);
}

TEST(Gpt, OddEntrySizeStraddlingChunks)
{
	// 384-byte entries (a multiple of 128, not a power of two), 200 of them:
	// entries straddle sectors and the 16 KiB read chunks.
	Disk d(32768);
	GptLayout l;
	l.entry_size = 384;
	l.num_entries = 200;
	auto e = ThreeGptEntries();
	e.push_back({170, ParseGuid(kLinuxFs), Guid{}, 20000, 20999, 0, u"late"});
	WriteGpt(d, l, e);
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0) << vlab_errname(s.rc);
	ASSERT_EQ(s.t.count, 4u);
	const vlab_part *p = Find(s.t, 171);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->start_lba, 20000u);
	EXPECT_STREQ(p->name, "late");
}

TEST(Gpt, FourKSectors)
{
	Disk d(16400, 4096); // 64 MiB
	WriteGpt(d, GptLayout{}, ThreeGptEntries());
	Scan s = ScanDisk(d);
	ExpectThreeGptEntries(s);
	EXPECT_EQ(s.t.sector_size, 4096u);
	EXPECT_EQ(s.t.first_usable, 2u + 4);
}

TEST(Gpt, NameConversionIsSafe)
{
	Disk d(32768);
	auto e = ThreeGptEntries();
	std::u16string n;
	n += char16_t(0xD83D); // U+1F600 as a surrogate pair
	n += char16_t(0xDE00);
	n += char16_t(0xDC00); // lone low surrogate
	n += char16_t(0x0007); // control
	n += u"ok";
	e[0].name = n;
	// 36 three-byte characters do not fit 72 bytes: cut at a character.
	e[2].name = std::u16string(36, char16_t(0x20AC));
	WriteGpt(d, GptLayout{}, e);
	Scan s = ScanDisk(d);
	ASSERT_EQ(s.rc, 0);
	EXPECT_STREQ(Find(s.t, 1)->name, "\xf0\x9f\x98\x80??ok");
	const char *euros = Find(s.t, 5)->name;
	EXPECT_EQ(std::strlen(euros), 72u);
	EXPECT_EQ(std::string(euros).substr(0, 3), "\xe2\x82\xac");
}

// ---------------------------------------------------------------------------
// Cross-check with sfdisk (util-linux), when it is installed.

const char *Sfdisk()
{
	for (const char *p : {"/usr/sbin/sfdisk", "/sbin/sfdisk", "/usr/bin/sfdisk"})
		if (access(p, X_OK) == 0)
			return p;
	return nullptr;
}

std::string RunCapture(const std::string &cmd)
{
	std::string out;
	FILE *f = popen(cmd.c_str(), "r");
	if (!f)
		return out;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		out.append(buf, n);
	pclose(f);
	return out;
}

struct SfPart {
	uint64_t start = 0, size = 0;
	std::string type, uuid, name, attrs;
};

// The few fields we need from `sfdisk --json`, by hand.
std::map<unsigned, SfPart> ParseSfdiskJson(const std::string &json, const std::string &img)
{
	std::map<unsigned, SfPart> parts;
	auto str_field = [](const std::string &obj, const std::string &key) {
		size_t k = obj.find("\"" + key + "\":");
		if (k == std::string::npos)
			return std::string();
		size_t q1 = obj.find('"', k + key.size() + 3);
		size_t q2 = obj.find('"', q1 + 1);
		return obj.substr(q1 + 1, q2 - q1 - 1);
	};
	auto num_field = [](const std::string &obj, const std::string &key) {
		size_t k = obj.find("\"" + key + "\":");
		if (k == std::string::npos)
			return uint64_t(0);
		return uint64_t(std::strtoull(obj.c_str() + k + key.size() + 3, nullptr, 10));
	};
	size_t pos = json.find("\"partitions\"");
	while (pos != std::string::npos) {
		size_t open = json.find('{', pos), close = json.find('}', open);
		if (open == std::string::npos || close == std::string::npos)
			break;
		std::string obj = json.substr(open, close - open);
		std::string node = str_field(obj, "node");
		if (node.size() > img.size() && node.compare(0, img.size(), img) == 0) {
			unsigned num = unsigned(std::stoul(node.substr(img.size())));
			SfPart p;
			p.start = num_field(obj, "start");
			p.size = num_field(obj, "size");
			p.type = str_field(obj, "type");
			p.uuid = str_field(obj, "uuid");
			p.name = str_field(obj, "name");
			p.attrs = str_field(obj, "attrs");
			parts[num] = p;
		}
		pos = close + 1;
		if (json.find('{', pos) == std::string::npos)
			break;
	}
	return parts;
}

class SfdiskImage : public testing::Test {
protected:
	void SetUp() override
	{
		sfdisk_ = Sfdisk();
		if (!sfdisk_)
			GTEST_SKIP() << "sfdisk not installed";
		char tmpl[] = "/tmp/vlab_part_XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		img_ = dir_ + "/x.img";
	}
	void TearDown() override
	{
		if (!dir_.empty()) {
			unlink(img_.c_str());
			rmdir(dir_.c_str());
		}
	}
	// Make a 64 MiB image partitioned by sfdisk from script.
	void Make(const std::string &script)
	{
		{
			std::ofstream f(img_, std::ios::binary);
			ASSERT_TRUE(f.good());
		}
		ASSERT_EQ(truncate(img_.c_str(), 64 << 20), 0);
		std::string scr = dir_ + "/script";
		{
			std::ofstream f(scr);
			f << script;
		}
		std::string cmd = std::string(sfdisk_) + " -q --no-tell-kernel " + img_ + " < " + scr + " >/dev/null 2>&1";
		ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
		unlink(scr.c_str());
		disk_.data.resize(size_t(64) << 20);
		std::ifstream in(img_, std::ios::binary);
		in.read(reinterpret_cast<char *>(disk_.data.data()), std::streamsize(disk_.data.size()));
		ASSERT_EQ(size_t(in.gcount()), disk_.data.size());
		json_ = RunCapture(std::string(sfdisk_) + " --json " + img_);
		sf_ = ParseSfdiskJson(json_, img_);
		ASSERT_FALSE(sf_.empty()) << json_;
	}

	const char *sfdisk_ = nullptr;
	std::string dir_, img_, json_;
	Disk disk_{0};
	std::map<unsigned, SfPart> sf_;
};

TEST_F(SfdiskImage, GptMatchesSfdisk)
{
	Make("label: gpt\n"
	     "start=2048, size=20480, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system\"\n"
	     "size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"root\", "
	     "attrs=\"LegacyBIOSBootable GUID:60\"\n"
	     "size=8192, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n"
	     "size=4096, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name=\"lvm\"\n");
	Scan s = ScanDisk(disk_);
	ASSERT_EQ(s.rc, 0) << vlab_errname(s.rc);
	ASSERT_EQ(s.t.scheme, VLAB_PART_GPT);
	EXPECT_FALSE(s.t.backup_used);
	ASSERT_EQ(s.t.count, sf_.size()) << json_;
	for (const auto &kv : sf_) {
		SCOPED_TRACE("partition " + std::to_string(kv.first));
		const vlab_part *p = Find(s.t, kv.first);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(p->start_lba, kv.second.start);
		EXPECT_EQ(p->nsectors, kv.second.size);
		EXPECT_EQ(GuidStr(p->type_guid), kv.second.type);
		EXPECT_EQ(GuidStr(p->uuid), kv.second.uuid);
		EXPECT_EQ(std::string(p->name), kv.second.name);
		EXPECT_NE(vlab_part_type_name(&s.t, p), nullptr);
	}
	EXPECT_EQ(Find(s.t, 2)->attrs, (1ull << 2) | (1ull << 60)) << sf_[2].attrs;
	EXPECT_NE(json_.find("\"firstlba\": " + std::to_string(s.t.first_usable)), std::string::npos);
	EXPECT_NE(json_.find("\"lastlba\": " + std::to_string(s.t.last_usable)), std::string::npos);

	// Wipe the primary header: the backup sfdisk wrote must give the same.
	std::memset(disk_.sec(1), 0, 512);
	Scan b = ScanDisk(disk_);
	ASSERT_EQ(b.rc, 0);
	EXPECT_TRUE(b.t.backup_used);
	ASSERT_EQ(b.t.count, s.t.count);
	for (unsigned i = 0; i < s.t.count; i++) {
		EXPECT_EQ(b.t.part[i].start_lba, s.t.part[i].start_lba);
		EXPECT_EQ(b.t.part[i].nsectors, s.t.part[i].nsectors);
	}
}

TEST_F(SfdiskImage, DosMatchesSfdisk)
{
	// Named lines: primaries 1-3 (2 extended), logicals 5-7 inside 2.
	Make("label: dos\n" +
	     img_ + "1 : start=2048, size=10240, type=83, bootable\n" +
	     img_ + "2 : size=40960, type=5\n" +
	     img_ + "3 : size=4096, type=82\n" +
	     img_ + "5 : size=2048, type=83\n" +
	     img_ + "6 : size=4096, type=c\n" +
	     img_ + "7 : size=8192, type=8e\n");
	Scan s = ScanDisk(disk_);
	ASSERT_EQ(s.rc, 0) << vlab_errname(s.rc);
	ASSERT_EQ(s.t.scheme, VLAB_PART_MBR);
	EXPECT_FALSE(s.t.truncated);
	ASSERT_EQ(s.t.count, sf_.size()) << json_;
	ASSERT_EQ(sf_.count(7), 1u) << json_; // three logicals: 5, 6, 7
	for (const auto &kv : sf_) {
		SCOPED_TRACE("partition " + std::to_string(kv.first));
		const vlab_part *p = Find(s.t, kv.first);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(p->start_lba, kv.second.start);
		EXPECT_EQ(p->nsectors, kv.second.size);
		EXPECT_EQ(p->mbr_type, std::stoul(kv.second.type, nullptr, 16));
		EXPECT_NE(vlab_part_type_name(&s.t, p), nullptr);
	}
	EXPECT_TRUE(Find(s.t, 1)->bootable);
	EXPECT_NE(json_.find("\"bootable\": true"), std::string::npos);
}

} // namespace
