/* Lab 6: in-network aggregation. This is fabric.p4's aggregation control
   (p4src/fabric/aggregation.p4, described in docs/aggregation.md) with two TODO holes in
   the slot logic: what a new contribution does to its cell, and what happens when the
   cell is complete. Jobs, cells, shadow sets, stale chunks and replays work already.

   A job's tree: ranks -> their leaf -> ... -> the root switch. A cell (slot, shadow set)
   holds the lane sums (agg_sums), the bitmap of the children that contributed, their
   count, the chunk seq and the job's tag. Children are known by ingress port
   (agg_children gives meta.aggChildBit = 1 << index); meta.aggFanIn is how many children
   the job has here. */
#ifndef _FABRIC_AGGREGATION_P4_
#define _FABRIC_AGGREGATION_P4_

const bit<32> AGG_CELLS = 1024;              /* 512 slots x 2 shadow sets per switch */
const bit<32> AGG_STATS = 16;

/* agg_stats indices (packets) */
const bit<32> AGG_CONTRIB    = 0;            /* contribution added */
const bit<32> AGG_COMPLETE   = 1;            /* a cell completed (result or partial emitted) */
const bit<32> AGG_REPLAY     = 2;            /* retransmission answered with the stored result */
const bit<32> AGG_RESEND_UP  = 3;            /* retransmission: partial sent to the parent again */
const bit<32> AGG_DUPLICATE  = 4;            /* bit already set, nothing to answer yet: dropped */
const bit<32> AGG_RESULT_IN  = 5;            /* result from the parent stored and multicast */
const bit<32> AGG_SHORT      = 8;            /* malformed: shorter than the headers */
const bit<32> AGG_UNKNOWN    = 9;            /* malformed: job not installed here */
const bit<32> AGG_NOT_MEMBER = 10;           /* malformed: ingress port is no child of the job */
const bit<32> AGG_BAD_SLOT   = 11;           /* malformed: slot outside the job's pool */
const bit<32> AGG_STALE      = 12;           /* older chunk than the cell holds / stray result */

/* One pass over the words serves every use of a cell (one copy of the per-word code keeps
   the program small): lane = (packet lane & aggHdrMask) + (cell lane & aggCellMask), written
   to the packet and the cell. Add: both masks all ones (the cell's 0 for a first
   contribution); load the stored sum: header mask 0; store the packet: cell mask 0.
   A word's 64 lanes are added at once, SWAR-style: one addition of every lane's low 31 bits
   (their sum fits in the lane, so no carry crosses into the next), then every lane's top
   bit set by XOR (carry in ^ both top bits). Each lane wraps exactly as bit<32> does. */
#define AGG_X4(x) x ++ x ++ x ++ x
const bit<2048> AGG_TOPS = AGG_X4(AGG_X4(AGG_X4(32w0x80000000)));   /* every lane's top bit */
const bit<2048> AGG_LOWS = ~AGG_TOPS;
const bit<2048> AGG_ALL = ~(bit<2048>)0;

#define AGG_COMBINE(i) agg_sums.read(c, meta.aggWord + i); \
    p = hdr.agg_lanes.w##i & meta.aggHdrMask; \
    c = c & meta.aggCellMask; \
    hdr.agg_lanes.w##i = ((p & AGG_LOWS) + (c & AGG_LOWS)) ^ ((p ^ c) & AGG_TOPS); \
    agg_sums.write(meta.aggWord + i, hdr.agg_lanes.w##i);

control FabricAggregation(inout headers_t hdr,
                          inout metadata_t meta,
                          inout standard_metadata_t standard_metadata) {

    register<bit<2048>>(AGG_CELLS << AGG_WORD_SHIFT) agg_sums;
    register<bit<32>>(AGG_CELLS) agg_bitmap;
    register<bit<8>>(AGG_CELLS) agg_count;
    register<bit<32>>(AGG_CELLS) agg_seq;
    register<bit<32>>(AGG_CELLS) agg_owner;
    register<bit<1>>(AGG_CELLS) agg_done;
    counter(AGG_STATS, CounterType.packets) agg_stats;

    action agg_drop(bit<32> reason) {
        mark_to_drop(standard_metadata);
        agg_stats.count(reason);
    }

    action agg_job(bit<32> tag, bit<32> slot_base, bit<16> pool_size, bit<8> fan_in,
                   bit<1> is_root, bit<9> parent_port, bit<8> child_id, bit<16> group,
                   bit<32> service_ip) {
        meta.aggTag = tag;
        meta.aggSlotBase = slot_base;
        meta.aggPoolSize = pool_size;
        meta.aggFanIn = fan_in;
        meta.aggIsRoot = is_root;
        meta.aggParentPort = parent_port;
        meta.aggChildId = child_id;
        meta.aggGroup = group;
        meta.aggServiceIp = service_ip;
    }

    /* This switch's part of a job's tree. */
    table agg_jobs {
        key = { hdr.agg.jobId: exact; }
        actions = { agg_job; NoAction; }
        default_action = NoAction();
        size = 256;
    }

    action agg_child(bit<8> index) {
        meta.aggChildBit = (bit<32>)1 << index;
    }

    /* The job's children here: a rank's host port (leaf) or a child switch's port. */
    table agg_children {
        key = { hdr.agg.jobId: exact; standard_metadata.ingress_port: exact; }
        actions = { agg_child; NoAction; }
        default_action = NoAction();
        size = 4096;
    }

    action agg_load_cell() {
        meta.aggCell = ((meta.aggSlotBase + (bit<32>)hdr.agg.slot) << 1) | (bit<32>)hdr.agg.ver;
        meta.aggWord = meta.aggCell << AGG_WORD_SHIFT;
        agg_seq.read(meta.aggSeq, meta.aggCell);
        agg_owner.read(meta.aggOwner, meta.aggCell);
        agg_bitmap.read(meta.aggBitmap, meta.aggCell);
        agg_count.read(meta.aggCount, meta.aggCell);
        agg_done.read(meta.aggDone, meta.aggCell);
    }

    /* A newer chunk (or another job's tag) takes the cell over; an older chunk is stale. */
    action agg_age_cell() {
        bool fresh = meta.aggOwner != meta.aggTag || hdr.agg.seq > meta.aggSeq;
        meta.aggStale = (!fresh && hdr.agg.seq < meta.aggSeq) ? 1w1 : 1w0;
        meta.aggBitmap = fresh ? 32w0 : meta.aggBitmap;
        meta.aggCount = fresh ? 8w0 : meta.aggCount;
        meta.aggDone = fresh ? 1w0 : meta.aggDone;
        meta.aggSeq = hdr.agg.seq;
        meta.aggOwner = meta.aggTag;
    }

    action agg_save_cell() {
        agg_seq.write(meta.aggCell, meta.aggSeq);
        agg_owner.write(meta.aggCell, meta.aggOwner);
        agg_bitmap.write(meta.aggCell, meta.aggBitmap);
        agg_count.write(meta.aggCell, meta.aggCount);
        agg_done.write(meta.aggCell, meta.aggDone);
    }

    action agg_combine() {
        bit<2048> p;
        bit<2048> c;
        AGG_FOR_WORDS(AGG_COMBINE)
    }

    /* The first contribution overwrites the cell, later ones add (bit<32>: wraps). */
    action agg_accumulate() {
        /* TODO 1: record this child's contribution: set its bit (meta.aggChildBit) in
           meta.aggBitmap and count it in meta.aggCount (agg_save_cell writes both back;
           the lanes are overwritten when meta.aggCount == 1, added otherwise). */
        agg_stats.count(AGG_CONTRIB);
        meta.aggHdrMask = AGG_ALL;
        meta.aggCellMask = (meta.aggCount == 1) ? (bit<2048>)0 : AGG_ALL;
        meta.aggCombine = 1;
    }

    action agg_load_sums() {
        meta.aggHdrMask = 0;
        meta.aggCellMask = AGG_ALL;
        meta.aggCombine = 1;
    }

    action agg_store_sums() {
        meta.aggHdrMask = AGG_ALL;
        meta.aggCellMask = 0;
        meta.aggCombine = 1;
    }

    /* Everything the switch emits comes from the job's service address and carries this
       switch's child index. */
    action agg_emit(bit<1> is_result) {
        hdr.agg.isResult = is_result;
        hdr.agg.workerId = meta.aggChildId;
        hdr.agg.bitmap = meta.aggBitmap;
        hdr.ipv4.srcAddr = meta.aggServiceIp;
        hdr.ipv4.dstAddr = meta.aggServiceIp;
        hdr.ipv4.ttl = 64;
        hdr.udp.srcPort = AGG_UDP_PORT;
        hdr.udp.checksum = 0;
    }

    action agg_multicast_down() {
        agg_emit(1);
        standard_metadata.mcast_grp = meta.aggGroup;
    }

    action agg_send_up() {
        agg_emit(0);
        standard_metadata.egress_spec = meta.aggParentPort;
    }

    action agg_reply() {
        agg_emit(1);
        standard_metadata.egress_spec = standard_metadata.ingress_port;
    }

    apply {
        meta.aggHandled = 1;
        if (standard_metadata.parser_error != error.NoError || !hdr.agg_lanes.isValid()
                || standard_metadata.checksum_error == 1) {
            agg_drop(AGG_SHORT);
        } else if (!agg_jobs.apply().hit) {
            agg_drop(AGG_UNKNOWN);
        } else if (hdr.agg.slot >= meta.aggPoolSize) {
            agg_drop(AGG_BAD_SLOT);
        } else if (hdr.agg.isResult == 1) {
            /* A result from the parent: keep it for replays, pass it down. */
            agg_load_cell();
            if (meta.aggIsRoot == 1 || standard_metadata.ingress_port != meta.aggParentPort
                    || (meta.aggOwner == meta.aggTag && hdr.agg.seq < meta.aggSeq)) {
                agg_drop(AGG_STALE);
            } else {
                agg_age_cell();
                meta.aggDone = 1;
                agg_save_cell();
                agg_store_sums();
                agg_stats.count(AGG_RESULT_IN);
                agg_multicast_down();
            }
        } else if (!agg_children.apply().hit) {
            agg_drop(AGG_NOT_MEMBER);
        } else {
            agg_load_cell();
            agg_age_cell();
            if (meta.aggStale == 1) {
                agg_drop(AGG_STALE);
            } else if ((meta.aggBitmap & meta.aggChildBit) != 0) {
                if (meta.aggDone == 1) {
                    agg_load_sums();
                    agg_stats.count(AGG_REPLAY);
                    agg_reply();
                } else if (meta.aggCount == meta.aggFanIn) {
                    agg_load_sums();
                    agg_stats.count(AGG_RESEND_UP);
                    agg_send_up();
                } else {
                    agg_drop(AGG_DUPLICATE);
                }
            } else {
                agg_accumulate();
                /* TODO 2: when every child has contributed (meta.aggCount == meta.aggFanIn)
                   count AGG_COMPLETE in agg_stats, then: the root (meta.aggIsRoot == 1)
                   marks the cell done (meta.aggDone = 1) and multicasts the result down
                   (agg_multicast_down); any other switch sends its partial sum up to its
                   parent (agg_send_up). Until then the contribution is absorbed: */
                mark_to_drop(standard_metadata);
                agg_save_cell();
            }
        }
        if (meta.aggCombine == 1) {
            agg_combine();   /* the only call: the word code exists once */
        }
    }
}

/* Results delivered to a rank's port get the rank's address (the PRE replicates one
   packet to every member port). */
control FabricAggregationEgress(inout headers_t hdr,
                                inout metadata_t meta,
                                inout standard_metadata_t standard_metadata) {

    action agg_to_host(bit<32> ip) {
        hdr.ipv4.dstAddr = ip;
    }

    table agg_hosts {
        key = { hdr.agg.jobId: exact; standard_metadata.egress_port: exact; }
        actions = { agg_to_host; NoAction; }
        default_action = NoAction();
        size = 4096;
    }

    apply {
        if (hdr.agg.isValid() && hdr.agg.isResult == 1) {
            agg_hosts.apply();
        }
    }
}

#endif  /* _FABRIC_AGGREGATION_P4_ */
