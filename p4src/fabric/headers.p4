/* fabric.p4 headers and metadata.

   INT-MD over UDP (fabriclab's variant of INT 2.1, "UDP destination port" signalling):
   the first switch replaces the UDP destination port with INT_UDP_PORT, saves the original
   port in the shim and inserts

     UDP | int_shim (4 B) | int_md (12 B) | hop records, newest first (24 B each) | L4 payload

   Every switch pushes one int_hop record in front of the existing ones, so transit switches
   never need to parse the stack; only the sink does, to strip it. */
#ifndef _FABRIC_HEADERS_P4_
#define _FABRIC_HEADERS_P4_

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<16> ETHERTYPE_ARP  = 0x0806;
const bit<8>  IPPROTO_TCP    = 6;
const bit<8>  IPPROTO_UDP    = 17;
const bit<16> ROCE_UDP_PORT  = 4791;
const bit<16> INT_UDP_PORT   = 9099;   /* UDP dport that says "INT shim follows" */
const bit<16> AGG_UDP_PORT   = 9200;   /* UDP dport of in-network aggregation (aggregation.p4) */
const bit<16> ARP_REQUEST    = 1;
const bit<16> ARP_REPLY      = 2;

const bit<8>  INT_MAX_HOPS   = 6;      /* = size of the parsed hop stack */
const bit<8>  INT_HOP_WORDS  = 6;      /* one hop record, in 4-byte words */
const bit<16> INT_HOP_BYTES  = 24;
const bit<8>  INT_BASE_WORDS = 4;      /* shim + md header, in 4-byte words */
const bit<16> INT_BASE_BYTES = 16;
const bit<16> INT_INSTRUCTIONS = 0xF500; /* switch id, ports, latency, queue, egress ts, tx bytes */
/* INT to the receiver (HPCC, docs/congestion.md): records are int_cc_hop_t, the same size as
   int_hop_t (so the parsed hop stack is unchanged), the stack is never stripped, no report. */
const bit<16> INT_CC_INSTRUCTIONS = 0xA701; /* switch id, egress port, rate, queue bytes, ts, tx bytes */

const bit<32> INT_REPORT_SESSION = 100; /* clone session: port toward the collector */
const bit<8>  FL_INT_REPORT  = 1;       /* @field_list(1): preserved into the report clone */
/* Switch-generated congestion notification (docs/congestion.md): a CNP cloned from a data
   packet that met a deep egress queue, sent back out of the port the packet came in on. */
const bit<32> NOTIFY_SESSION_BASE = 200; /* clone session 200 + p: out of port p */
const bit<8>  FL_NOTIFY      = 2;       /* @field_list(2): preserved into the notification */
const bit<32> NOTIFY_SLOTS   = 4096;    /* per-flow rate-limit timestamps */
const bit<8>  ROCE_CNP       = 0x81;
const bit<6>  BTH_FROM_SWITCH = 1;      /* BTH resv6 of a switch-generated CNP (no valid ICRC) */
const bit<16> CNP_FRAME_BYTES = 74;     /* Ethernet + IPv4 + UDP + BTH + 16 B + ICRC */

const bit<2>  MODE_ECMP      = 0;
const bit<2>  MODE_FLOWLET   = 1;
@noWarn("unused") const bit<2> MODE_ADAPTIVE = 2;   /* the one mode the program never names */

const bit<32> PORT_SLOTS     = 512;     /* registers/counters indexed by port number */
const bit<32> FLOWLET_SLOTS  = 4096;

const bit<32> INSTANCE_NORMAL    = 0;
const bit<32> INSTANCE_I2E_CLONE = 1;
const bit<32> INSTANCE_REPLICATION = 5;   /* a multicast copy (aggregation results) */

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header arp_t {
    bit<16> htype;
    bit<16> ptype;
    bit<8>  hlen;
    bit<8>  plen;
    bit<16> oper;
    bit<48> sha;
    bit<32> spa;
    bit<48> tha;
    bit<32> tpa;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<6>  dscp;
    bit<2>  ecn;
    bit<16> totalLen;
    bit<16> identification;
    bit<3>  flags;
    bit<13> fragOffset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    bit<32> srcAddr;
    bit<32> dstAddr;
}

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;
    bit<16> checksum;
}

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

/* RoCEv2 base transport header (InfiniBand BTH, 12 bytes). */
header bth_t {
    bit<8>  opcode;
    bit<1>  se;
    bit<1>  migReq;
    bit<2>  padCnt;
    bit<4>  tver;
    bit<16> pkey;
    bit<1>  fecn;
    bit<1>  becn;
    bit<6>  resv6;
    bit<24> destQP;
    bit<1>  ackReq;
    bit<7>  resv7;
    bit<24> psn;
}

/* RDMA extended transport header (RDMA WRITE first/only, READ request). */
header reth_t {
    bit<64> va;
    bit<32> rkey;
    bit<32> dmaLen;
}

/* ACK extended transport header (ACK, READ response first/last/only, atomic ACK). */
header aeth_t {
    bit<8>  syndrome;
    bit<24> msn;
}

header int_shim_t {
    bit<4>  intType;      /* 1 = INT-MD */
    bit<2>  npt;          /* 1 = origPort holds the original UDP destination port */
    bit<2>  rsvd;
    bit<8>  len;          /* shim + md + hop records, in 4-byte words */
    bit<16> origPort;
}

header int_md_t {
    bit<4>  ver;          /* 2 */
    bit<1>  d;
    bit<1>  e;            /* set when a switch could not add its record (hop budget spent) */
    bit<1>  m;
    bit<12> rsvd;
    bit<5>  hopMl;        /* words per hop record = INT_HOP_WORDS */
    bit<8>  remainingHops;
    bit<16> instructions;
    bit<16> domainId;
    bit<16> dsInstructions;
    bit<16> dsFlags;
}

/* One switch's record. Timestamps and latencies in microseconds (the switch clock). */
header int_hop_t {
    bit<32> switchId;
    bit<16> ingressPort;
    bit<16> egressPort;
    bit<32> hopLatency;   /* egress timestamp - ingress timestamp */
    bit<8>  qid;          /* egress queue (= packet priority) */
    bit<24> qdepth;       /* queue depth at dequeue, packets */
    bit<32> egressTs;     /* low 32 bits of the egress timestamp */
    bit<32> txBytes;      /* bytes the egress port sent before this packet, INT included (wraps) */
}

/* One switch's record in INT-to-the-receiver mode (24 B like int_hop_t): what HPCC needs
   from a hop. qlenBytes = queue depth in packets x this packet's length (v1model counts a
   queue in packets: exact for a flow of equal-size packets); egressTs in us (v1model's
   clock); rateMbps from the port_rate table (0: not configured). */
header int_cc_hop_t {
    bit<32> switchId;
    bit<16> egressPort;
    bit<16> rsvd;
    bit<32> rateMbps;
    bit<32> qlenBytes;
    bit<32> egressTs;
    bit<32> txBytes;
}

/* Telemetry report, sent as UDP to the collector:
   Ethernet | IPv4 | UDP | int_report | the sink's received packet with the sink's hop added. */
header int_report_t {
    bit<4>  ver;          /* 1 */
    bit<4>  hopCount;     /* hop records in the inner packet */
    bit<8>  rsvd;
    bit<16> innerLen;     /* bytes of the inner packet */
    bit<32> switchId;     /* the reporting (sink) switch */
    bit<32> seqNo;        /* per-switch report sequence number */
    bit<32> ingressTs;    /* when the inner packet entered the sink, low 32 bits */
}

/* In-network aggregation (p4src/fabric/aggregation.p4, docs/aggregation.md):
   UDP (both ports AGG_UDP_PORT) | agg_t (16 B) | agg_lanes_t (256 x 32-bit lanes, 1 KB). */
header agg_t {
    bit<16> jobId;
    bit<16> slot;         /* slot in the job's pool: chunk % pool size */
    bit<32> seq;          /* chunk sequence number: orders the uses of a slot */
    bit<8>  workerId;     /* sender's rank; from a switch: its child index at the parent */
    bit<8>  workerCount;  /* ranks in the job (informational; the switch uses its fan-in) */
    bit<1>  isResult;     /* 1: a complete sum travelling down the tree */
    bit<1>  ver;          /* shadow set: (seq / pool size) % 2 */
    bit<6>  rsvd;
    bit<8>  rsvd2;
    bit<32> bitmap;       /* results and partials: contributors at the emitting switch */
}

/* 256 int32 lanes (1 KB) make an aggregation frame as long as a RoCE packet of the default
   1024-byte MTU, so the two all-reduce algorithms compare at the same wire efficiency. They
   travel as four 2048-bit words of 64 lanes each (lane 0 first on the wire: the top 32 bits
   of w0), so the switch adds 64 lanes in one operation (aggregation.p4) instead of handling
   256 fields one by one; 2048 bits is the widest type p4c compiles. AGG_FOR_WORDS(X)
   applies the macro X to every word index. */
#define AGG_WORD_SHIFT 2
#define AGG_FOR_WORDS(X) X(0) X(1) X(2) X(3)

/* int32 lanes, two's complement, summed as bit<32> (wrapping, so any tree order gives
   the same sum). */
header agg_lanes_t {
    bit<2048> w0;   /* lanes 0-63 */
    bit<2048> w1;   /* lanes 64-127 */
    bit<2048> w2;   /* lanes 128-191 */
    bit<2048> w3;   /* lanes 192-255 */
}

struct headers_t {
    ethernet_t   report_ethernet;
    ipv4_t       report_ipv4;
    udp_t        report_udp;
    int_report_t report;
    ethernet_t   ethernet;
    arp_t        arp;
    ipv4_t       ipv4;
    udp_t        udp;
    tcp_t        tcp;
    int_shim_t   int_shim;
    int_md_t     int_md;
    int_hop_t    int_local;              /* this switch's record, emitted before the stack */
    int_cc_hop_t int_cc_local;           /* or, in INT-to-the-receiver mode, this one */
    int_hop_t[6] int_hops;               /* records of previous hops (size = INT_MAX_HOPS) */
    bth_t        bth;
    reth_t       reth;
    aeth_t       aeth;
    agg_t        agg;
    agg_lanes_t  agg_lanes;
}

/* Flat on purpose: @field_list applies to top-level metadata fields. */
struct metadata_t {
    bit<16> l4SrcPort;        /* 5-tuple ports; the original dport when INT is present */
    bit<16> l4DstPort;
    bit<8>  intHopsToParse;
    bit<16> group;
    bit<1>  routed;
    bit<2>  mode;
    bit<48> flowletGap;
    bit<48> loadMaxAge;
    bit<4>  candidateCount;
    bit<9>  cand0;
    bit<9>  cand1;
    bit<9>  cand2;
    bit<9>  cand3;
    bit<9>  cand4;
    bit<9>  cand5;
    bit<9>  cand6;
    bit<9>  cand7;
    bit<36> bestKey;          /* load << 4 | random tie-break */
    bit<9>  bestPort;
    bit<32> flowletSlot;
    bit<1>  flowletRepick;
    bit<1>  bthValid;
    bit<8>  bthOpcode;
    bit<1>  intSource;
    bit<1>  intSink;
    bit<1>  intToHost;        /* the stack is INT to the receiver: keep it, no report */
    bit<32> intGrowth;        /* bytes this egress's INT edits added to the frame (a strip: fewer, wrapping) */
    bit<32> portRateMbps;
    bit<1>  ecnEnabled;
    bit<32> ecnKmin;
    bit<32> ecnKmax;
    bit<32> ecnSlope;         /* Pmax * 65536 / (Kmax - Kmin), computed by the controller */
    bit<48> portSmac;
    bit<48> portDmac;
    bit<1>  portKnown;
    bit<32> switchId;
    bit<32> reportSrcIp;
    bit<32> collectorIp;
    bit<16> collectorPort;
    bit<1>  notifyOn;         /* switch notification enabled for this traffic class */
    bit<32> notifyThreshold;  /* egress queue depth (packets) that triggers it */
    bit<48> notifyInterval;   /* us between two notifications of one flow */
    bit<32> notifySlot;
    bit<64> deadPorts;        /* liveness.p4: bit p = egress port p is down */
    bit<1>  bounced;          /* liveness.p4: the next switch sent this packet back */
    bit<8>  tenant;           /* tenants.p4: 0 = no tenant */
    bit<3>  tenantPriority;
    bit<2>  tenantColor;
    bit<1>  aggHandled;       /* the aggregation control consumed or answered the packet */
    bit<32> aggTag;           /* the job's installation tag: cells of other tags are stale */
    bit<32> aggSlotBase;
    bit<16> aggPoolSize;
    bit<8>  aggFanIn;
    bit<1>  aggIsRoot;
    bit<9>  aggParentPort;
    bit<16> aggGroup;
    bit<8>  aggChildId;
    bit<32> aggServiceIp;
    bit<32> aggChildBit;
    bit<32> aggCell;
    bit<32> aggWord;          /* first word of the cell in agg_sums */
    bit<2048> aggHdrMask;     /* agg_combine: which of packet and cell lanes to add */
    bit<2048> aggCellMask;
    bit<1>  aggCombine;       /* run agg_combine at the end of the aggregation control */
    bit<32> aggSeq;
    bit<32> aggOwner;
    bit<32> aggBitmap;
    bit<8>  aggCount;
    bit<1>  aggDone;
    bit<1>  aggStale;
    @field_list(1)
    bit<1>  intReport;        /* this packet is the sink's report clone */
    @field_list(1)
    bit<9>  intOrigIngressPort;
    @field_list(1)
    bit<9>  intOrigEgressPort;
    @field_list(1)
    bit<48> intOrigIngressTs;
    @field_list(1)
    bit<3>  intOrigQid;
    @field_list(2)
    bit<1>  ccNotify;         /* this packet is a switch-generated notification clone */
    @field_list(2)
    bit<6>  notifyDscp;
}

#endif  /* _FABRIC_HEADERS_P4_ */
