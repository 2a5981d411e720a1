// Control-message layouts checked field by field against DPDK's independent
// definitions in rte_vmbus_reg.h (size and offset of every field both define).
#include <cstddef>
#include <cstdint>

#include <gtest/gtest.h>
#include <rte_vmbus_reg.h>

#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::wire {
namespace {

// Same offset and same size of one field in our struct and in DPDK's.
#define EXPECT_FIELD_MATCHES(ours, our_field, theirs, their_field)              \
  do {                                                                          \
    EXPECT_EQ(offsetof(ours, our_field), offsetof(theirs, their_field))         \
        << #ours "::" #our_field " vs " #theirs "::" #their_field;              \
    EXPECT_EQ(sizeof(ours::our_field), sizeof(theirs::their_field))             \
        << #ours "::" #our_field " vs " #theirs "::" #their_field;              \
  } while (0)

constexpr uint32_t type_number(ChannelMessageType type) {
  return static_cast<uint32_t>(type);
}

TEST(ChannelMessages, TypeNumbersMatchDpdk) {
  EXPECT_EQ(type_number(OfferChannel::kType), VMBUS_CHANMSG_TYPE_CHOFFER);
  EXPECT_EQ(type_number(RescindChannelOffer::kType), VMBUS_CHANMSG_TYPE_CHRESCIND);
  EXPECT_EQ(type_number(RequestOffers::kType), VMBUS_CHANMSG_TYPE_CHREQUEST);
  EXPECT_EQ(type_number(AllOffersDelivered::kType), VMBUS_CHANMSG_TYPE_CHOFFER_DONE);
  EXPECT_EQ(type_number(OpenChannel::kType), VMBUS_CHANMSG_TYPE_CHOPEN);
  EXPECT_EQ(type_number(OpenChannelResult::kType), VMBUS_CHANMSG_TYPE_CHOPEN_RESP);
  EXPECT_EQ(type_number(CloseChannel::kType), VMBUS_CHANMSG_TYPE_CHCLOSE);
  EXPECT_EQ(type_number(GpadlHeader::kType), VMBUS_CHANMSG_TYPE_GPADL_CONN);
  EXPECT_EQ(type_number(GpadlBody::kType), VMBUS_CHANMSG_TYPE_GPADL_SUBCONN);
  EXPECT_EQ(type_number(GpadlCreated::kType), VMBUS_CHANMSG_TYPE_GPADL_CONNRESP);
  EXPECT_EQ(type_number(GpadlTeardown::kType), VMBUS_CHANMSG_TYPE_GPADL_DISCONN);
  EXPECT_EQ(type_number(GpadlTorndown::kType), VMBUS_CHANMSG_TYPE_GPADL_DISCONNRESP);
  EXPECT_EQ(type_number(RelidReleased::kType), VMBUS_CHANMSG_TYPE_CHFREE);
  EXPECT_EQ(type_number(InitiateContact::kType), VMBUS_CHANMSG_TYPE_CONNECT);
  EXPECT_EQ(type_number(VersionResponse::kType), VMBUS_CHANMSG_TYPE_CONNECT_RESP);
  EXPECT_EQ(type_number(Unload::kType), VMBUS_CHANMSG_TYPE_DISCONNECT);
}

TEST(ChannelMessages, TypesDpdkLacksFollowTheSpecNumbering) {
  EXPECT_EQ(type_number(UnloadResponse::kType), 17u);
  EXPECT_EQ(type_number(ModifyChannel::kType), 22u);
  EXPECT_EQ(type_number(ModifyChannelResponse::kType), 24u);
  EXPECT_EQ(sizeof(ModifyChannel), 16u);
  EXPECT_EQ(sizeof(ModifyChannelResponse), 16u);
}

TEST(ChannelMessages, SynicMessageMatchesDpdk) {
  EXPECT_EQ(sizeof(SynicMessage), sizeof(vmbus_message));
  EXPECT_EQ(kSynicMessageSize, uint32_t{VMBUS_MSG_SIZE});
  EXPECT_EQ(kMaxChannelMessageSize, uint32_t{VMBUS_MSG_DSIZE_MAX});
  EXPECT_EQ(kSynicMessageFlagPending, VMBUS_MSGFLAG_PENDING);
  EXPECT_FIELD_MATCHES(SynicMessage, message_type, vmbus_message, type);
  EXPECT_FIELD_MATCHES(SynicMessage, payload_size, vmbus_message, dsize);
  EXPECT_FIELD_MATCHES(SynicMessage, message_flags, vmbus_message, flags);
  EXPECT_FIELD_MATCHES(SynicMessage, reserved, vmbus_message, rsvd);
  EXPECT_FIELD_MATCHES(SynicMessage, port, vmbus_message, id);
  EXPECT_FIELD_MATCHES(SynicMessage, payload, vmbus_message, data);
}

TEST(ChannelMessages, HeaderMatchesDpdk) {
  EXPECT_EQ(sizeof(ChannelMessageHeader), sizeof(vmbus_chanmsg_hdr));
  EXPECT_FIELD_MATCHES(ChannelMessageHeader, msgtype, vmbus_chanmsg_hdr, type);
  EXPECT_FIELD_MATCHES(ChannelMessageHeader, padding, vmbus_chanmsg_hdr, rsvd);
}

TEST(ChannelMessages, HeaderOnlyMessagesMatchDpdk) {
  EXPECT_EQ(sizeof(RequestOffers), sizeof(vmbus_chanmsg_chrequest));
  EXPECT_FIELD_MATCHES(RequestOffers, header, vmbus_chanmsg_chrequest, hdr);
  EXPECT_EQ(sizeof(Unload), sizeof(vmbus_chanmsg_disconnect));
  EXPECT_FIELD_MATCHES(Unload, header, vmbus_chanmsg_disconnect, hdr);
}

TEST(ChannelMessages, RelidMessagesMatchDpdk) {
  EXPECT_EQ(sizeof(RescindChannelOffer), sizeof(vmbus_chanmsg_chrescind));
  EXPECT_FIELD_MATCHES(RescindChannelOffer, header, vmbus_chanmsg_chrescind, hdr);
  EXPECT_FIELD_MATCHES(RescindChannelOffer, child_relid, vmbus_chanmsg_chrescind, chanid);

  EXPECT_EQ(sizeof(CloseChannel), sizeof(vmbus_chanmsg_chclose));
  EXPECT_FIELD_MATCHES(CloseChannel, header, vmbus_chanmsg_chclose, hdr);
  EXPECT_FIELD_MATCHES(CloseChannel, child_relid, vmbus_chanmsg_chclose, chanid);

  EXPECT_EQ(sizeof(RelidReleased), sizeof(vmbus_chanmsg_chfree));
  EXPECT_FIELD_MATCHES(RelidReleased, header, vmbus_chanmsg_chfree, hdr);
  EXPECT_FIELD_MATCHES(RelidReleased, child_relid, vmbus_chanmsg_chfree, chanid);
}

TEST(ChannelMessages, InitiateContactMatchesDpdk) {
  EXPECT_EQ(sizeof(InitiateContact), sizeof(vmbus_chanmsg_connect));
  EXPECT_FIELD_MATCHES(InitiateContact, header, vmbus_chanmsg_connect, hdr);
  EXPECT_FIELD_MATCHES(InitiateContact, vmbus_version_requested, vmbus_chanmsg_connect, ver);
  EXPECT_FIELD_MATCHES(InitiateContact, target_vcpu, vmbus_chanmsg_connect, rsvd);
  EXPECT_FIELD_MATCHES(InitiateContact, interrupt_page, vmbus_chanmsg_connect, evtflags);
  EXPECT_FIELD_MATCHES(InitiateContact, target, vmbus_chanmsg_connect, evtflags);
  EXPECT_FIELD_MATCHES(InitiateContact, monitor_page1, vmbus_chanmsg_connect, mnf1);
  EXPECT_FIELD_MATCHES(InitiateContact, monitor_page2, vmbus_chanmsg_connect, mnf2);
}

// DPDK declares only the first byte of the response; the rest is ours alone.
TEST(ChannelMessages, VersionResponseStartsLikeDpdk) {
  EXPECT_LE(sizeof(vmbus_chanmsg_connect_resp), sizeof(VersionResponse));
  EXPECT_FIELD_MATCHES(VersionResponse, header, vmbus_chanmsg_connect_resp, hdr);
  EXPECT_FIELD_MATCHES(VersionResponse, version_supported, vmbus_chanmsg_connect_resp, done);
}

TEST(ChannelMessages, OfferChannelMatchesDpdk) {
  EXPECT_EQ(sizeof(OfferChannel), sizeof(vmbus_chanmsg_choffer));
  EXPECT_FIELD_MATCHES(OfferChannel, header, vmbus_chanmsg_choffer, hdr);
  EXPECT_FIELD_MATCHES(OfferChannel, if_type, vmbus_chanmsg_choffer, chtype);
  EXPECT_FIELD_MATCHES(OfferChannel, if_instance, vmbus_chanmsg_choffer, chinst);
  EXPECT_FIELD_MATCHES(OfferChannel, reserved1, vmbus_chanmsg_choffer, chlat);
  // DPDK splits Linux's reserved2 into two u32 words.
  EXPECT_EQ(offsetof(OfferChannel, reserved2), offsetof(vmbus_chanmsg_choffer, chrev));
  EXPECT_EQ(offsetof(OfferChannel, reserved2) + 4, offsetof(vmbus_chanmsg_choffer, svrctx_sz));
  EXPECT_EQ(sizeof(OfferChannel::reserved2),
            sizeof(vmbus_chanmsg_choffer::chrev) + sizeof(vmbus_chanmsg_choffer::svrctx_sz));
  EXPECT_FIELD_MATCHES(OfferChannel, chn_flags, vmbus_chanmsg_choffer, chflags);
  EXPECT_FIELD_MATCHES(OfferChannel, mmio_megabytes, vmbus_chanmsg_choffer, mmio_sz);
  EXPECT_FIELD_MATCHES(OfferChannel, user_def, vmbus_chanmsg_choffer, udata);
  EXPECT_FIELD_MATCHES(OfferChannel, sub_channel_index, vmbus_chanmsg_choffer, subidx);
  EXPECT_FIELD_MATCHES(OfferChannel, reserved3, vmbus_chanmsg_choffer, rsvd);
  EXPECT_FIELD_MATCHES(OfferChannel, child_relid, vmbus_chanmsg_choffer, chanid);
  EXPECT_FIELD_MATCHES(OfferChannel, monitorid, vmbus_chanmsg_choffer, montrig);
  EXPECT_FIELD_MATCHES(OfferChannel, monitor_allocated, vmbus_chanmsg_choffer, flags1);
  EXPECT_FIELD_MATCHES(OfferChannel, is_dedicated_interrupt, vmbus_chanmsg_choffer, flags2);
  EXPECT_FIELD_MATCHES(OfferChannel, connection_id, vmbus_chanmsg_choffer, connid);
  EXPECT_EQ(kOfferMonitorAllocated, VMBUS_CHOFFER_FLAG1_HASMNF);
}

TEST(ChannelMessages, OpenChannelMatchesDpdk) {
  EXPECT_EQ(sizeof(OpenChannel), sizeof(vmbus_chanmsg_chopen));
  EXPECT_EQ(kOpenChannelUserDataSize, uint32_t{VMBUS_CHANMSG_CHOPEN_UDATA_SIZE});
  EXPECT_FIELD_MATCHES(OpenChannel, header, vmbus_chanmsg_chopen, hdr);
  EXPECT_FIELD_MATCHES(OpenChannel, child_relid, vmbus_chanmsg_chopen, chanid);
  EXPECT_FIELD_MATCHES(OpenChannel, openid, vmbus_chanmsg_chopen, openid);
  EXPECT_FIELD_MATCHES(OpenChannel, ringbuffer_gpadlhandle, vmbus_chanmsg_chopen, gpadl);
  EXPECT_FIELD_MATCHES(OpenChannel, target_vp, vmbus_chanmsg_chopen, vcpuid);
  EXPECT_FIELD_MATCHES(OpenChannel, downstream_ringbuffer_pageoffset, vmbus_chanmsg_chopen,
                       txbr_pgcnt);
  EXPECT_FIELD_MATCHES(OpenChannel, userdata, vmbus_chanmsg_chopen, udata);

  EXPECT_EQ(sizeof(OpenChannelResult), sizeof(vmbus_chanmsg_chopen_resp));
  EXPECT_FIELD_MATCHES(OpenChannelResult, header, vmbus_chanmsg_chopen_resp, hdr);
  EXPECT_FIELD_MATCHES(OpenChannelResult, child_relid, vmbus_chanmsg_chopen_resp, chanid);
  EXPECT_FIELD_MATCHES(OpenChannelResult, openid, vmbus_chanmsg_chopen_resp, openid);
  EXPECT_FIELD_MATCHES(OpenChannelResult, status, vmbus_chanmsg_chopen_resp, status);
}

// DPDK's GPADL structs end in the first range / PFN array; ours stop before it.
TEST(ChannelMessages, GpadlMessagesMatchDpdk) {
  EXPECT_FIELD_MATCHES(GpadlHeader, header, vmbus_chanmsg_gpadl_conn, hdr);
  EXPECT_FIELD_MATCHES(GpadlHeader, child_relid, vmbus_chanmsg_gpadl_conn, chanid);
  EXPECT_FIELD_MATCHES(GpadlHeader, gpadl, vmbus_chanmsg_gpadl_conn, gpadl);
  EXPECT_FIELD_MATCHES(GpadlHeader, range_buflen, vmbus_chanmsg_gpadl_conn, range_len);
  EXPECT_FIELD_MATCHES(GpadlHeader, rangecount, vmbus_chanmsg_gpadl_conn, range_cnt);
  EXPECT_EQ(sizeof(GpadlHeader), offsetof(vmbus_chanmsg_gpadl_conn, range));
  EXPECT_EQ(sizeof(GpaRange), sizeof(vmbus_gpa_range));
  EXPECT_EQ(kGpadlHeaderMaxPfns, uint32_t{VMBUS_CHANMSG_GPADL_CONN_PGMAX});

  EXPECT_FIELD_MATCHES(GpadlBody, header, vmbus_chanmsg_gpadl_subconn, hdr);
  EXPECT_FIELD_MATCHES(GpadlBody, msgnumber, vmbus_chanmsg_gpadl_subconn, msgno);
  EXPECT_FIELD_MATCHES(GpadlBody, gpadl, vmbus_chanmsg_gpadl_subconn, gpadl);
  EXPECT_EQ(sizeof(GpadlBody), offsetof(vmbus_chanmsg_gpadl_subconn, gpa_page));
  EXPECT_EQ(kGpadlBodyMaxPfns, uint32_t{VMBUS_CHANMSG_GPADL_SUBCONN_PGMAX});

  EXPECT_EQ(sizeof(GpadlCreated), sizeof(vmbus_chanmsg_gpadl_connresp));
  EXPECT_FIELD_MATCHES(GpadlCreated, header, vmbus_chanmsg_gpadl_connresp, hdr);
  EXPECT_FIELD_MATCHES(GpadlCreated, child_relid, vmbus_chanmsg_gpadl_connresp, chanid);
  EXPECT_FIELD_MATCHES(GpadlCreated, gpadl, vmbus_chanmsg_gpadl_connresp, gpadl);
  EXPECT_FIELD_MATCHES(GpadlCreated, creation_status, vmbus_chanmsg_gpadl_connresp, status);

  EXPECT_EQ(sizeof(GpadlTeardown), sizeof(vmbus_chanmsg_gpadl_disconn));
  EXPECT_FIELD_MATCHES(GpadlTeardown, header, vmbus_chanmsg_gpadl_disconn, hdr);
  EXPECT_FIELD_MATCHES(GpadlTeardown, child_relid, vmbus_chanmsg_gpadl_disconn, chanid);
  EXPECT_FIELD_MATCHES(GpadlTeardown, gpadl, vmbus_chanmsg_gpadl_disconn, gpadl);
}

TEST(ChannelMessages, MonitorPageMatchesDpdk) {
  EXPECT_EQ(kMonitorGroupCount, uint32_t{VMBUS_MONTRIGS_MAX});
  EXPECT_EQ(kMonitorBitsPerGroup, uint32_t{VMBUS_MONTRIG_LEN});

  EXPECT_EQ(sizeof(MonitorTriggerGroup), sizeof(vmbus_mon_trig));
  EXPECT_FIELD_MATCHES(MonitorTriggerGroup, pending, vmbus_mon_trig, pending);
  EXPECT_FIELD_MATCHES(MonitorTriggerGroup, armed, vmbus_mon_trig, armed);

  EXPECT_EQ(sizeof(MonitorParameter), sizeof(hyperv_mon_param));
  EXPECT_FIELD_MATCHES(MonitorParameter, connection_id, hyperv_mon_param, connid);
  EXPECT_FIELD_MATCHES(MonitorParameter, flag_number, hyperv_mon_param, evtflag_ofs);
  EXPECT_FIELD_MATCHES(MonitorParameter, rsvd, hyperv_mon_param, rsvd);

  EXPECT_EQ(sizeof(MonitorPage), sizeof(vmbus_mon_page));
  EXPECT_FIELD_MATCHES(MonitorPage, trigger_state, vmbus_mon_page, state);
  EXPECT_FIELD_MATCHES(MonitorPage, rsvdz1, vmbus_mon_page, rsvd1);
  EXPECT_FIELD_MATCHES(MonitorPage, trigger_group, vmbus_mon_page, trigs);
  // DPDK folds next_checktime into its reserved block.
  EXPECT_EQ(offsetof(MonitorPage, rsvdz2), offsetof(vmbus_mon_page, rsvd2));
  EXPECT_EQ(sizeof(MonitorPage::rsvdz2) + sizeof(MonitorPage::next_checktime),
            sizeof(vmbus_mon_page::rsvd2));
  EXPECT_FIELD_MATCHES(MonitorPage, latency, vmbus_mon_page, lat);
  EXPECT_FIELD_MATCHES(MonitorPage, rsvdz3, vmbus_mon_page, rsvd3);
  EXPECT_FIELD_MATCHES(MonitorPage, parameter, vmbus_mon_page, param);
  EXPECT_FIELD_MATCHES(MonitorPage, rsvdz4, vmbus_mon_page, rsvd4);
}

TEST(ChannelMessages, MakeChannelMessageSetsOnlyTheType) {
  const OfferChannel offer = make_channel_message<OfferChannel>();
  const auto* bytes = reinterpret_cast<const uint8_t*>(&offer);
  EXPECT_EQ(bytes[0], VMBUS_CHANMSG_TYPE_CHOFFER);
  for (std::size_t i = 1; i < sizeof(offer); ++i) {
    ASSERT_EQ(bytes[i], 0) << "byte " << i;
  }
  static_assert(make_channel_message<GpadlTorndown>().header.msgtype ==
                ChannelMessageType::gpadl_torndown);
}

TEST(ChannelMessages, FullGpadlMessagesFitTheSynicPayload) {
  EXPECT_LE(sizeof(GpadlHeader) + sizeof(GpaRange) + kGpadlHeaderMaxPfns * sizeof(uint64_t),
            kMaxChannelMessageSize);
  EXPECT_LE(sizeof(GpadlBody) + kGpadlBodyMaxPfns * sizeof(uint64_t), kMaxChannelMessageSize);
}

TEST(ChannelMessages, InterruptPageHalvesIndexEveryRelid) {
  EXPECT_EQ(offsetof(InterruptPage, send_int_page), kHvPageSize / 2);
  EXPECT_EQ(kInterruptPageChannelBits, 16384u);
}

}  // namespace
}  // namespace uvmbus::wire
