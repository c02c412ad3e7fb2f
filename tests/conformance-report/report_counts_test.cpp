// SPDX-License-Identifier: MIT
// The model's report counts, per requirement ID, how many times it was
// checked and broken, and finds the first breach (vlab conformance's PASS
// "checked N times" and FAIL "first breach").
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "devmodel/report.h"
#include "report_sites.h"

namespace {

struct Report : ::testing::Test {
	dm_report r;
	void SetUp() override { dm_report_init(&r); }
};

TEST_F(Report, CountsEachCheckOfEachId)
{
	for (int i = 0; i < 3; i++)
		dm_report_checked(&r, "DRV-3.1.1-1");
	dm_report_checked(&r, "DRV-2.1.1-2");
	EXPECT_EQ(r.nchecked, 2u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-3.1.1-1"), 3u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.1.1-2"), 1u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-9-9"), 0u);
	EXPECT_EQ(dm_report_violation_count(&r, "DRV-3.1.1-1"), 0u);
}

TEST_F(Report, AViolationIsACheckAndIsCountedWithItsFirstRecord)
{
	dm_report_checked(&r, "DRV-3.1.1-1");
	dm_report_add(&r, "DRV-3.1.1-1", "blk0 status", 100, "DRIVER set before %s", "ACKNOWLEDGE");
	dm_report_add(&r, "DRV-3.1.1-1", "blk0 status", 200, "second");
	EXPECT_EQ(dm_report_check_count(&r, "DRV-3.1.1-1"), 3u);
	EXPECT_EQ(dm_report_violation_count(&r, "DRV-3.1.1-1"), 2u);
	const dm_violation *v = dm_report_first(&r, "DRV-3.1.1-1");
	ASSERT_NE(v, nullptr);
	EXPECT_EQ(v->time_ns, 100u);
	EXPECT_STREQ(v->where, "blk0 status");
	EXPECT_STREQ(v->detail, "DRIVER set before ACKNOWLEDGE");
	EXPECT_EQ(dm_report_first(&r, "DRV-2.1.1-2"), nullptr);
}

TEST_F(Report, RoomForEveryDriverRequirementThenDroppedIdsAreCounted)
{
	// The 234 driver statements fit; beyond DM_REPORT_IDS an ID is only
	// counted as dropped, never written past the table.
	for (int i = 0; i < DM_REPORT_IDS + 5; i++)
		dm_report_checked(&r, ("DRV-X-" + std::to_string(i)).c_str());
	EXPECT_GE(DM_REPORT_IDS, 234);
	EXPECT_EQ(r.nchecked, static_cast<unsigned>(DM_REPORT_IDS));
	EXPECT_EQ(r.ids_dropped, 5u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-X-0"), 1u);
	EXPECT_EQ(dm_report_check_count(&r, ("DRV-X-" + std::to_string(DM_REPORT_IDS)).c_str()), 0u);
}

// The report finds an ID by an index (issue 15): every ID keeps its own
// exact counts however the IDs hash, and an ID passed in a buffer that
// later holds another ID counts as the ID it holds at each call.
TEST_F(Report, EveryIdKeepsItsOwnCountsWhateverItsHash)
{
	std::vector<std::string> ids;
	for (int i = 0; i < DM_REPORT_IDS; i++)
		ids.push_back("DRV-" + std::to_string(i % 17) + "." + std::to_string(i) + "-" + std::to_string(i % 3));
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < DM_REPORT_IDS; i++)
			if (round <= i % 4)
				dm_report_checked(&r, ids[i].c_str());
	dm_report_add(&r, ids[7].c_str(), "q0", 1, "broken");
	EXPECT_EQ(r.nchecked, static_cast<unsigned>(DM_REPORT_IDS));
	EXPECT_EQ(r.ids_dropped, 0u);
	for (int i = 0; i < DM_REPORT_IDS; i++) {
		EXPECT_STREQ(r.checked[i], ids[i].c_str());
		EXPECT_EQ(dm_report_check_count(&r, ids[i].c_str()), static_cast<uint32_t>(i % 4 + 1 + (i == 7)))
			<< ids[i];
		EXPECT_EQ(dm_report_violation_count(&r, ids[i].c_str()), i == 7 ? 1u : 0u) << ids[i];
	}
}

TEST_F(Report, ABufferReusedForAnotherIdCountsTheIdItHolds)
{
	char buf[32];
	std::snprintf(buf, sizeof buf, "%s", "DRV-2.7.4.2-1");
	dm_report_checked(&r, buf);
	dm_report_checked(&r, buf);
	std::snprintf(buf, sizeof buf, "%s", "DRV-2.7.4.2-2");
	dm_report_checked(&r, buf);
	std::snprintf(buf, sizeof buf, "%s", "DRV-2.7.4.2-1");
	dm_report_checked(&r, buf);
	EXPECT_EQ(r.nchecked, 2u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.4.2-1"), 3u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.4.2-2"), 1u);
}

// IDs held in buffers (here a page apart, which shared a slot of the
// address cache the report had before IDs were numbered) each count as the
// ID they hold, also when one of those places is rewritten with another ID.
TEST_F(Report, IdsWhoseAddressesShareACacheSlotKeepTheirCounts)
{
	std::vector<char> mem(4 * 4096 + 64);
	const size_t at[] = {0, 4096, 2 * 4096, 3 * 4096 + 4};
	const char *const id[] = {"DRV-2.7.4.2-1", "DRV-2.7.4.2-2", "DRV-2.7.5.2-1", "DRV-2.7.6.1-1"};
	uint32_t want[5] = {0, 0, 0, 0, 0};
	for (int k = 0; k < 4; k++)
		std::snprintf(&mem[at[k]], 32, "%s", id[k]);
	for (int round = 0; round < 50; round++)
		for (int k = 0; k < 4; k++)
			for (int n = 0; n <= (round + k) % 3; n++) {
				dm_report_checked(&r, &mem[at[k]]);
				want[k]++;
			}
	// The first place now holds a fifth ID: it counts as that one.
	std::snprintf(&mem[at[0]], 32, "%s", "DRV-2.7.7.1-1");
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 4; k++) {
			dm_report_checked(&r, &mem[at[k]]);
			want[k == 0 ? 4 : k]++;
		}
	EXPECT_EQ(r.nchecked, 5u);
	for (int k = 0; k < 4; k++)
		EXPECT_EQ(dm_report_check_count(&r, id[k]), want[k]) << id[k];
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.7.1-1"), want[4]);
}

// A literal ID is numbered once at its check site (DM_REQ_NUM keeps the
// number in a static there, issue 15): that site counts in whichever
// report it is given, each report at its own entry for the ID.
TEST_F(Report, ASiteSeenByTwoReportsCountsInEachAtItsOwnEntry)
{
	dm_report other;
	dm_report_init(&other);
	EXPECT_EQ(report_site_literal_is_constant(), 1);
	dm_report_checked(&other, "DRV-2.1.1-2"); // the site's ID is other's second entry
	for (int i = 0; i < 3; i++)
		report_site_literal(&r);
	for (int i = 0; i < 2; i++)
		report_site_literal(&other);
	report_site_literal(&r);
	dm_report_checked(&other, "DRV-2.7.4.2-1"); // the same ID by its text
	EXPECT_EQ(r.nchecked, 1u);
	EXPECT_STREQ(r.checked[0], "DRV-2.7.4.2-1");
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.4.2-1"), 4u);
	EXPECT_EQ(other.nchecked, 2u);
	EXPECT_STREQ(other.checked[1], "DRV-2.7.4.2-1");
	EXPECT_EQ(dm_report_check_count(&other, "DRV-2.7.4.2-1"), 3u);
	EXPECT_EQ(dm_report_check_count(&other, "DRV-2.1.1-2"), 1u);
}

// An ID in a buffer is not numbered at its site: one site whose buffer
// holds another ID at each call counts each call as the ID it holds then.
TEST_F(Report, ASiteGivenABufferCountsTheIdItHoldsAtEachCall)
{
	char buf[32] = {};
	EXPECT_EQ(report_site_buffer_is_constant(buf), 0);
	const char *const id[] = {"DRV-2.7.4.2-1", "DRV-2.7.4.2-2", "DRV-2.7.4.2-1", "DRV-2.7.5.2-1",
	                          "DRV-2.7.4.2-1"};
	for (const char *i : id) {
		std::snprintf(buf, sizeof buf, "%s", i);
		report_site_buffer(&r, buf);
	}
	EXPECT_EQ(r.nchecked, 3u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.4.2-1"), 3u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.4.2-2"), 1u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.5.2-1"), 1u);
}

// The numbers follow the text as a report keeps it: equal texts at other
// addresses share a number, texts that differ within their first 31
// characters do not, and texts equal in those share it (the report counts
// them as one ID too).
TEST_F(Report, AnIdsNumberFollowsItsTextAsTheReportKeepsIt)
{
	std::string a = "DRV-2.7.13.3.1-1", b = a, c = "DRV-2.7.13.3.1-2";
	std::string long1(31, 'L'), long2 = long1;
	long1 += "-one";
	long2 += "-two";
	EXPECT_NE(dm_req_intern(a.c_str()), 0u);
	EXPECT_EQ(dm_req_intern(a.c_str()), dm_req_intern(b.c_str()));
	EXPECT_NE(dm_req_intern(a.c_str()), dm_req_intern(c.c_str()));
	EXPECT_EQ(dm_req_intern(long1.c_str()), dm_req_intern(long2.c_str()));
	EXPECT_EQ(dm_req_intern(nullptr), 0u);
	dm_report_checked(&r, long1.c_str());
	dm_report_checked(&r, long2.c_str());
	EXPECT_EQ(r.nchecked, 1u);
	EXPECT_EQ(dm_report_check_count(&r, long1.c_str()), 2u);
}

// Once the process has numbered all the texts it can, a new ID has no
// number and is found by its text, with the same counts.
TEST_F(Report, IdsBeyondTheProcesssNumbersAreCountedByTheirText)
{
	unsigned numbered = 0;
	for (int i = 0; i < 2 * DM_REQ_IDS && dm_req_intern(("FILL-" + std::to_string(i)).c_str()) != 0; i++)
		numbered++;
	EXPECT_LT(numbered, static_cast<unsigned>(DM_REQ_IDS));
	EXPECT_EQ(dm_req_intern("DRV-2.7.7.2-4"), 0u);
	char buf[32];
	std::snprintf(buf, sizeof buf, "%s", "DRV-2.7.7.2-4");
	for (int i = 0; i < 3; i++) {
		dm_report_checked(&r, "DRV-2.7.7.2-4");
		report_site_buffer(&r, buf);
	}
	dm_report_add(&r, "DRV-2.7.7.2-4", "q0", 1, "broken");
	EXPECT_EQ(r.nchecked, 1u);
	EXPECT_EQ(dm_report_check_count(&r, "DRV-2.7.7.2-4"), 7u);
	EXPECT_EQ(dm_report_violation_count(&r, "DRV-2.7.7.2-4"), 1u);
}

TEST_F(Report, NullIdsAreIgnored)
{
	dm_report_checked(&r, nullptr);
	dm_report_add(&r, nullptr, "x", 0, "no id");
	EXPECT_EQ(r.nchecked, 0u);
	EXPECT_EQ(r.count, 1u);
	EXPECT_EQ(dm_report_check_count(&r, nullptr), 0u);
}

} // namespace
