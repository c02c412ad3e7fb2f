// Filesystems (driver/fs): FAT12/16/32 and ext2/3/4 images made by the real
// tools (tests/fs/make_images.sh) read through the API with 512- and
// 4096-byte disk blocks and inside a partition; then corrupted images
// (cyclic FAT chain, extent loop, block numbers out of range, a directory
// entry that does not advance) must give clean errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vlab/fs.h"

namespace {

const std::string kImages = std::string(VLAB_BINARY_DIR) + "/tests/fs-unit-images";

// The tools run once for the whole suite; 77: a tool is missing.
int MakeImages()
{
	static int rc = -1;
	if (rc < 0) {
		// The script keeps images already made by the same script (a
		// stamp) and takes a lock: every test process of the suite calls it.
		std::string cmd = "bash " VLAB_SOURCE_DIR "/tests/fs/make_images.sh " + kImages + " >/dev/null";
		int st = std::system(cmd.c_str());
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	return rc;
}

std::vector<uint8_t> Slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary | std::ios::ate);
	std::vector<uint8_t> v(f ? size_t(f.tellg()) : 0);
	f.seekg(0);
	f.read(reinterpret_cast<char *>(v.data()), std::streamsize(v.size()));
	return v;
}

uint8_t Pattern(size_t i)
{
	return uint8_t((i * 7 + i / 251) & 0xff);
}

// A disk in memory: the image at byte offset `at` of a larger buffer.
struct Disk {
	std::vector<uint8_t> data;
	uint32_t bs = 512;
	unsigned reads_beyond = 0;
	unsigned reads = 0;
	std::vector<uint64_t> lbas; // every block read, in order
};

int DiskRead(void *ctx, uint64_t lba, uint32_t n, void *buf)
{
	auto *d = static_cast<Disk *>(ctx);
	d->reads++;
	for (uint32_t i = 0; i < n; i++)
		d->lbas.push_back(lba + i);
	uint64_t total = d->data.size() / d->bs;
	if (lba >= total || n > total - lba) {
		d->reads_beyond++;
		return VLAB_EIO;
	}
	std::memcpy(buf, &d->data[lba * d->bs], size_t(n) * d->bs);
	return 0;
}

struct Mounted {
	Disk disk;
	std::unique_ptr<vlab_fs> fs{new vlab_fs};
	int rc = 0;
	uint64_t at = 0; // byte offset of the filesystem on the disk

	// The image at block `start_blocks` of a disk of blocks of bs bytes.
	Mounted(const std::vector<uint8_t> &img, uint32_t bs = 512, uint64_t start_blocks = 0)
	{
		disk.bs = bs;
		at = start_blocks * bs;
		disk.data.assign(at, 0xAA);
		disk.data.insert(disk.data.end(), img.begin(), img.end());
		disk.data.resize(disk.data.size() + 3 * bs, 0x55); // something after the partition
		rc = vlab_fs_mount(fs.get(), bs, start_blocks, img.size() / bs, DiskRead, &disk);
	}
	// The disk's bytes, to change them: the mount forgets what it read.
	uint8_t *byte(uint64_t off)
	{
		vlab_fs_forget(fs.get());
		return &disk.data[at + off];
	}
	std::string Read(const char *path, int *err = nullptr, uint64_t pos = 0, uint64_t len = 1 << 20)
	{
		std::vector<uint8_t> buf(len);
		uint64_t got = 0;
		int e = vlab_fs_read(fs.get(), path, pos, buf.data(), len, &got);
		if (err) {
			*err = e;
		} else {
			EXPECT_EQ(e, 0) << path << ": " << vlab_fs_strerror(e);
		}
		return std::string(buf.begin(), buf.begin() + long(got));
	}
	std::map<std::string, struct vlab_fs_stat> List(const char *path, int *err = nullptr)
	{
		std::map<std::string, struct vlab_fs_stat> out;
		int e = vlab_fs_list(fs.get(), path,
		                     [](void *ctx, const vlab_fs_dirent *d) {
			                     (*static_cast<std::map<std::string, struct vlab_fs_stat> *>(ctx))[d->name] = d->st;
			                     return 0;
		                     },
		                     &out);
		if (err) {
			*err = e;
		} else {
			EXPECT_EQ(e, 0) << path << ": " << vlab_fs_strerror(e);
		}
		return out;
	}
};

class FsImage : public ::testing::TestWithParam<std::tuple<const char *, uint32_t>> {
protected:
	void SetUp() override
	{
		int rc = MakeImages();
		if (rc == 77)
			GTEST_SKIP() << "dosfstools, mtools or e2fsprogs missing (scripts/deps.sh installs them)";
		ASSERT_EQ(rc, 0) << "tests/fs/make_images.sh failed";
		name = std::get<0>(GetParam());
		img = Slurp(kImages + "/" + name + ".img");
		ASSERT_GT(img.size(), 0u) << name;
		fat = name.compare(0, 3, "fat") == 0;
	}
	std::string name;
	std::vector<uint8_t> img;
	bool fat = false;
};

std::string Expected(size_t n)
{
	std::string s(n, '\0');
	for (size_t i = 0; i < n; i++)
		s[i] = char(Pattern(i));
	return s;
}

TEST_P(FsImage, MountsListsAndReads)
{
	uint32_t bs = std::get<1>(GetParam());
	// In a partition that starts 8 blocks into the disk.
	Mounted m(img, bs, 8);
	ASSERT_EQ(m.rc, 0) << vlab_fs_strerror(m.rc);
	EXPECT_STREQ(vlab_fs_type_name(m.fs.get()), fat ? "fat" : "ext4");
	if (fat) {
		EXPECT_EQ(std::to_string(m.fs->u.fat.bits), name.substr(3));
	}

	auto root = m.List("/");
	ASSERT_TRUE(root.count("hello.txt"));
	EXPECT_EQ(root["hello.txt"].type, VLAB_FS_FILE);
	EXPECT_EQ(root["hello.txt"].size, 18u);
	EXPECT_EQ(root["big.bin"].size, 300000u);
	EXPECT_TRUE(root.count("A Long File Name with spaces.txt"));
	EXPECT_EQ(root["sub"].type, VLAB_FS_DIR);

	EXPECT_EQ(m.Read("/hello.txt"), "hello, filesystem\n");
	EXPECT_EQ(m.Read("/A Long File Name with spaces.txt"), "long name\n");
	EXPECT_EQ(m.Read("sub/deeper/n.txt"), "nested\n");
	EXPECT_EQ(m.Read("/sub/./deeper/../deeper/n.txt"), "nested\n");
	EXPECT_EQ(m.Read("/big.bin"), Expected(300000));
	// Part of a file: from a position, a length, across block boundaries.
	EXPECT_EQ(m.Read("/big.bin", nullptr, 1000, 5000), Expected(6000).substr(1000));
	EXPECT_EQ(m.Read("/big.bin", nullptr, 299990, 100), Expected(300000).substr(299990));
	int err = 0;
	m.Read("/big.bin", &err, 300001, 1);
	EXPECT_EQ(err, VLAB_FS_ERANGE);

	auto deeper = m.List("/sub/deeper");
	EXPECT_TRUE(deeper.count("n.txt"));
	m.Read("/nope.txt", &err);
	EXPECT_EQ(err, VLAB_FS_ENOENT);
	m.Read("/hello.txt/x", &err);
	EXPECT_EQ(err, VLAB_FS_ENOTDIR);
	m.Read("/sub", &err);
	EXPECT_EQ(err, VLAB_FS_EISDIR);
	m.List("/hello.txt", &err);
	EXPECT_EQ(err, VLAB_FS_ENOTDIR);
	EXPECT_EQ(m.disk.reads_beyond, 0u);

	if (fat) {
		// Names compare without case; a file in two fragments.
		EXPECT_EQ(m.Read("/HELLO.TXT"), "hello, filesystem\n");
		EXPECT_EQ(m.Read("/a long file name with spaces.txt"), "long name\n");
		EXPECT_EQ(m.Read("/frag.bin"), Expected(60000));
		char uuid[37];
		vlab_fs_uuid(m.fs.get(), uuid);
		EXPECT_STREQ(uuid, "1234-ABCD");
	} else {
		EXPECT_EQ(root["link"].type, VLAB_FS_SYMLINK);
		EXPECT_EQ(m.Read("/link"), "hello, filesystem\n");
		EXPECT_EQ(m.Read("/dlink/n.txt"), "nested\n");
		auto via = m.List("/dlink");
		EXPECT_TRUE(via.count("n.txt"));
		m.Read("/loop", &err);
		EXPECT_EQ(err, VLAB_FS_ELOOP);
		// sparse.bin: 4 KiB of big.bin every 12 KiB, holes between.
		std::string sp = m.Read("/sparse.bin");
		ASSERT_EQ(sp.size(), 65536u);
		std::string big = Expected(300000);
		for (size_t i = 0; i < 16; i++) {
			std::string want = (i % 3 == 0) ? big.substr((i / 3) * 4096, 4096) : std::string(4096, '\0');
			EXPECT_EQ(sp.substr(i * 4096, 4096), want) << "4 KiB piece " << i;
		}
		char uuid[37];
		vlab_fs_uuid(m.fs.get(), uuid);
		EXPECT_STREQ(uuid, "0c0ffee0-1234-4567-89ab-cdef01234567");
	}
}

// The walker remembers recent lookups (struct vlab_fs_lookup): a path
// looked up again reads no directory, and whatever order paths come in,
// each gives what a walk on a fresh mount gives.
TEST_P(FsImage, RememberedLookupsGiveWhatAFreshWalkGives)
{
	uint32_t bs = std::get<1>(GetParam());
	Mounted m(img, bs, 8);
	ASSERT_EQ(m.rc, 0) << vlab_fs_strerror(m.rc);
	struct vlab_fs_stat st, again;
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/sub/deeper/n.txt", &st), 0);
	unsigned before = m.disk.reads;
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/sub/deeper/n.txt", &again), 0);
	EXPECT_EQ(m.disk.reads, before) << "a second lookup of the same path read the disk";
	EXPECT_EQ(again.ino, st.ino);
	// A file read in pieces: each piece reads its data, not the directories.
	EXPECT_EQ(m.Read("/sub/deeper/n.txt", nullptr, 0, 3), "nes");
	before = m.disk.reads;
	EXPECT_EQ(m.Read("/sub/deeper/n.txt", nullptr, 3, 4), "ted\n");
	EXPECT_LE(m.disk.reads - before, fat ? 2u : 1u) << "its data and, FAT, the end of its chain";

	std::vector<const char *> paths = {
		"/", "/hello.txt", "/sub", "/sub/", "sub/deeper", "/sub/deeper/n.txt", "/sub/deeper/../deeper/n.txt",
		"/sub/./deeper", "/sub/deeper/..", "/..", "/nope", "/sub/nope", "/hello.txt/x", "/sub/deeper/n.txt/",
		"/HELLO.TXT", "/big.bin", "/A Long File Name with spaces.txt", "/link", "/dlink/n.txt", "/dlink",
		"/loop", "/sub/deeper/n.txt/..", "//sub//deeper", "/sub/deeperx", "/su",
	};
	Mounted fresh(img, bs, 8);
	ASSERT_EQ(fresh.rc, 0);
	std::srand(7);
	for (int round = 0; round < 6; round++) {
		for (size_t k = paths.size(); k > 1; k--)
			std::swap(paths[k - 1], paths[size_t(std::rand()) % k]);
		for (const char *p : paths) {
			// fresh walks from the root every time: it forgets before each.
			vlab_fs_forget(fresh.fs.get());
			struct vlab_fs_stat a {}, b {};
			int ra = vlab_fs_stat(m.fs.get(), p, &a);
			int rb = vlab_fs_stat(fresh.fs.get(), p, &b);
			ASSERT_EQ(ra, rb) << p << " in round " << round;
			if (ra == 0) {
				EXPECT_EQ(a.type, b.type) << p;
				EXPECT_EQ(a.size, b.size) << p;
				EXPECT_EQ(a.ino, b.ino) << p;
			}
			// A listing, as \`ls\` does before it stats.
			int la = 0, lb = 0;
			auto xa = m.List(p, &la);
			vlab_fs_forget(fresh.fs.get());
			auto xb = fresh.List(p, &lb);
			EXPECT_EQ(la, lb) << p;
			EXPECT_EQ(xa.size(), xb.size()) << p;
		}
	}
	EXPECT_EQ(m.disk.reads_beyond, 0u);
}

// One lookup reads no block twice: the blocks it keeps (VLAB_FS_CACHE_BLOCKS)
// hold a directory block, the group descriptors and an inode table block at
// once, and a lookup reads the inode of the name it wants only (ext read
// every entry's, and its directory block again after each, before).
TEST_P(FsImage, ALookupReadsNoBlockTwice)
{
	uint32_t bs = std::get<1>(GetParam());
	Mounted m(img, bs, 8);
	ASSERT_EQ(m.rc, 0) << vlab_fs_strerror(m.rc);
	for (const char *p : {"/sub/deeper/n.txt", "/hello.txt", "/nope", "/sub/nope", "/big.bin"}) {
		vlab_fs_forget(m.fs.get());
		m.disk.lbas.clear();
		struct vlab_fs_stat st;
		int rc = vlab_fs_stat(m.fs.get(), p, &st);
		EXPECT_EQ(rc, std::strstr(p, "nope") ? VLAB_FS_ENOENT : 0) << p;
		std::map<uint64_t, unsigned> times;
		for (uint64_t lba : m.disk.lbas)
			times[lba]++;
		for (const auto &t : times)
			EXPECT_EQ(t.second, 1u) << p << ": block " << t.first << " read " << t.second << " times of "
			                        << m.disk.lbas.size() << " reads";
	}
	EXPECT_EQ(m.disk.reads_beyond, 0u);
}

TEST_P(FsImage, ShorterPartitionThanFilesystemIsRefused)
{
	uint32_t bs = std::get<1>(GetParam());
	std::vector<uint8_t> half(img.begin(), img.begin() + long(img.size() / 2));
	Mounted m(half, bs);
	EXPECT_EQ(m.rc, VLAB_FS_ECORRUPT) << vlab_fs_strerror(m.rc);
}

std::string CaseName(const ::testing::TestParamInfo<FsImage::ParamType> &info)
{
	std::string n = std::get<0>(info.param);
	for (char &ch : n)
		if (ch == '-')
			ch = '_';
	return n + "_" + std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Images, FsImage,
                         ::testing::Combine(::testing::Values("fat12", "fat16", "fat32", "ext2", "ext3", "ext4",
                                                              "ext4-64", "ext4-inline"),
                                            ::testing::Values(512u, 4096u)),
                         CaseName);

// ---------------------------------------------------------------------------
// Corrupted images.

class FsCorrupt : public ::testing::Test {
protected:
	void SetUp() override
	{
		int rc = MakeImages();
		if (rc == 77)
			GTEST_SKIP() << "dosfstools, mtools or e2fsprogs missing";
		ASSERT_EQ(rc, 0);
	}
	static std::vector<uint8_t> Image(const char *name) { return Slurp(kImages + "/" + name + ".img"); }
};

void SetFat(Mounted &m, uint32_t c, uint32_t v)
{
	const vlab_fs_fat &f = m.fs->u.fat;
	if (f.bits == 12) {
		uint8_t *p = m.byte(f.fat_off + c + c / 2);
		uint16_t w = uint16_t(p[0] | (p[1] << 8));
		w = (c & 1) ? uint16_t((w & 0x000f) | (v << 4)) : uint16_t((w & 0xf000) | (v & 0xfff));
		p[0] = uint8_t(w);
		p[1] = uint8_t(w >> 8);
	} else if (f.bits == 16) {
		uint8_t *p = m.byte(f.fat_off + uint64_t(c) * 2);
		p[0] = uint8_t(v);
		p[1] = uint8_t(v >> 8);
	} else {
		uint8_t *p = m.byte(f.fat_off + uint64_t(c) * 4);
		for (int i = 0; i < 4; i++)
			p[i] = uint8_t(v >> (8 * i));
	}
}

TEST_F(FsCorrupt, CyclicFatChainEndsInAnError)
{
	for (const char *name : {"fat12", "fat16", "fat32"}) {
		Mounted m(Image(name));
		ASSERT_EQ(m.rc, 0) << name;
		struct vlab_fs_stat st{};
		ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/big.bin", &st), 0);
		// big.bin's third cluster points back at its first.
		SetFat(m, st.ino + 2, st.ino);
		int err = 0;
		m.Read("/big.bin", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << name << ": " << vlab_fs_strerror(err);
		// A directory whose chain loops on itself and whose entries never
		// say "end" (all deleted): the walk ends too.
		ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/sub", &st), 0);
		SetFat(m, st.ino, st.ino);
		const vlab_fs_fat &f = m.fs->u.fat;
		for (uint32_t off = 0; off < f.clus_size; off += 32)
			*m.byte(f.data_off + uint64_t(st.ino - 2) * f.clus_size + off) = 0xE5;
		m.List("/sub", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << name << ": " << vlab_fs_strerror(err);
	}
}

TEST_F(FsCorrupt, FatClusterBeyondTheVolume)
{
	for (const char *name : {"fat12", "fat16", "fat32"}) {
		Mounted m(Image(name));
		ASSERT_EQ(m.rc, 0) << name;
		std::string img(m.disk.data.begin(), m.disk.data.end());
		size_t at = img.find("HELLO   TXT");
		ASSERT_NE(at, std::string::npos) << name;
		m.disk.data[at + 0x1A] = 0xF0; // first cluster 0x0FF0F0 / 0xFFF0
		m.disk.data[at + 0x1B] = 0xFF;
		m.disk.data[at + 0x14] = 0x0F;
		int err = 0;
		m.Read("/hello.txt", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << name << ": " << vlab_fs_strerror(err);
		// A chain that ends before the file's size does.
		Mounted m2(Image(name));
		struct vlab_fs_stat st{};
		ASSERT_EQ(vlab_fs_stat(m2.fs.get(), "/big.bin", &st), 0);
		SetFat(m2, st.ino + 1, 0x0FFFFFFF);
		m2.Read("/big.bin", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << name;
		EXPECT_EQ(m2.disk.reads_beyond, 0u);
	}
}

// FAT32: a ".." that names the root by its cluster (not by 0, as mtools
// and Linux write it) is the root too: its own ".." stays there.
TEST_F(FsCorrupt, Fat32DotDotNamingTheRootCluster)
{
	Mounted m(Image("fat32"));
	ASSERT_EQ(m.rc, 0);
	struct vlab_fs_stat st{};
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/sub", &st), 0);
	const vlab_fs_fat &f = m.fs->u.fat;
	uint8_t *dotdot = m.byte(f.data_off + uint64_t(st.ino - 2) * f.clus_size + 32);
	ASSERT_EQ(std::string(reinterpret_cast<char *>(dotdot), 11), "..         ");
	dotdot[0x1A] = uint8_t(f.root_clus);
	dotdot[0x1B] = uint8_t(f.root_clus >> 8);
	int rc = vlab_fs_stat(m.fs.get(), "/sub/../../hello.txt", &st);
	EXPECT_EQ(rc, 0) << vlab_fs_strerror(rc);
}

// Byte offset of inode ino of a mounted ext filesystem.
uint64_t InodeOffset(Mounted &m, uint32_t ino)
{
	const vlab_fs_ext &x = m.fs->u.ext;
	uint32_t g = (ino - 1) / x.inodes_per_group, idx = (ino - 1) % x.inodes_per_group;
	const uint8_t *d = m.byte((uint64_t(x.first_data_block) + 1) * x.block_size + uint64_t(g) * x.desc_size);
	uint64_t table = uint64_t(d[8]) | uint64_t(d[9]) << 8 | uint64_t(d[10]) << 16 | uint64_t(d[11]) << 24;
	return table * x.block_size + uint64_t(idx) * x.inode_size;
}

void Put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = uint8_t(v >> (8 * i));
}

uint32_t Get32(const uint8_t *p)
{
	return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// i_block (the extent root or block map) of path in the image, or null.
uint8_t *IBlock(Mounted &m, const char *path)
{
	struct vlab_fs_stat st{};
	if (m.rc != 0 || vlab_fs_stat(m.fs.get(), path, &st) != 0)
		return nullptr;
	return m.byte(InodeOffset(m, st.ino) + 0x28);
}

// inline_data: hello.txt and sub/ (one entry) live in their inodes; the
// walk in MountsListsAndReads reads them, here the flag is reported and a
// file claiming more than i_block holds is refused.
TEST_F(FsCorrupt, InlineDataIsReportedAndBounded)
{
	Mounted m(Image("ext4-inline"));
	ASSERT_EQ(m.rc, 0);
	struct vlab_fs_stat st{};
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/hello.txt", &st), 0);
	EXPECT_TRUE(st.inline_data);
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/sub", &st), 0);
	EXPECT_TRUE(st.inline_data);
	auto sub = m.List("/sub");
	EXPECT_TRUE(sub.count("deeper") && sub.count(".") && sub.count(".."));
	ASSERT_EQ(vlab_fs_stat(m.fs.get(), "/hello.txt", &st), 0);
	uint8_t *size = m.byte(InodeOffset(m, st.ino) + 4);
	size[0] = 200; // beyond the 60 bytes of i_block
	int err = 0;
	m.Read("/hello.txt", &err);
	EXPECT_EQ(err, VLAB_FS_EUNSUPP) << vlab_fs_strerror(err);
}

TEST_F(FsCorrupt, ExtentLoopEndsInAnError)
{
	Mounted m(Image("ext4"));
	uint8_t *ib = IBlock(m, "/sparse.bin");
	ASSERT_NE(ib, nullptr);
	ASSERT_EQ(ib[6], 1) << "sparse.bin should have a depth-1 extent tree";
	uint32_t leaf = Get32(ib + 12 + 4);
	uint8_t *node = m.byte(uint64_t(leaf) * m.fs->u.ext.block_size);
	// The leaf becomes an index node (depth 1) pointing at itself.
	node[6] = 1;
	Put32(node + 12 + 4, leaf);
	node[12 + 8] = node[12 + 9] = 0;
	int err = 0;
	m.Read("/sparse.bin", &err);
	EXPECT_EQ(err, VLAB_FS_ECORRUPT) << vlab_fs_strerror(err);
	// A root claiming a depth beyond the format's 5.
	ib[6] = 9;
	m.Read("/sparse.bin", &err);
	EXPECT_EQ(err, VLAB_FS_ECORRUPT) << vlab_fs_strerror(err);
}

TEST_F(FsCorrupt, ExtBlockNumbersBeyondTheFilesystem)
{
	{
		Mounted m(Image("ext4"));
		uint8_t *ib = IBlock(m, "/big.bin");
		ASSERT_NE(ib, nullptr);
		ASSERT_EQ(ib[6], 0) << "big.bin: extents in the inode";
		Put32(ib + 12 + 8, 0xFFFFFF00u); // the first extent's start
		int err = 0;
		m.Read("/big.bin", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << vlab_fs_strerror(err);
		EXPECT_EQ(m.disk.reads_beyond, 0u);
	}
	{
		Mounted m(Image("ext2"));
		uint8_t *ib = IBlock(m, "/big.bin");
		ASSERT_NE(ib, nullptr);
		Put32(ib + 13 * 4, 0x7FFFFFF0u); // the double indirect block
		int err = 0;
		m.Read("/big.bin", &err);
		EXPECT_EQ(err, VLAB_FS_ECORRUPT) << vlab_fs_strerror(err);
		EXPECT_EQ(m.disk.reads_beyond, 0u);
	}
}

TEST_F(FsCorrupt, ExtDirectoryEntryThatDoesNotAdvance)
{
	Mounted m(Image("ext4"));
	ASSERT_EQ(m.rc, 0);
	uint8_t *ib = m.byte(InodeOffset(m, 2) + 0x28);
	uint32_t blk = Get32(ib + 12 + 8); // the root's first extent
	uint8_t *de = m.byte(uint64_t(blk) * m.fs->u.ext.block_size);
	de[4] = de[5] = 0; // "."'s rec_len
	int err = 0;
	m.List("/", &err);
	EXPECT_EQ(err, VLAB_FS_ECORRUPT) << vlab_fs_strerror(err);
}

TEST_F(FsCorrupt, NotAFilesystem)
{
	std::vector<uint8_t> zeros(1 << 20, 0);
	Mounted m(zeros);
	EXPECT_EQ(m.rc, VLAB_FS_EUNKNOWN);
	EXPECT_STREQ(vlab_fs_type_name(m.fs.get()), "unknown");
	struct vlab_fs_stat st{};
	EXPECT_EQ(vlab_fs_stat(m.fs.get(), "/", &st), VLAB_EINVAL);
}

} // namespace
